/* A program outside the libmst tree, built against an installed libmst: it checks that the
 * library it runs with is the one whose header it was compiled with. */
#include <mst.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    const char *version = mst_version();
    printf("mst_version() = %s, MST_VERSION_STRING = %s\n", version ? version : "(null)",
           MST_VERSION_STRING);
    return version != NULL && strcmp(version, MST_VERSION_STRING) == 0 ? 0 : 1;
}
