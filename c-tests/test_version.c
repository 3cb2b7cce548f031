/* mst_version() is the version the header was generated for, and the MST_VERSION_* macros agree
 * with MST_VERSION_STRING. */
#include <stdio.h>
#include <string.h>

#include "common.h"

int main(void) {
    const char *version = mst_version();
    CHECK(version != NULL);
    if (strcmp(version, MST_VERSION_STRING) != 0) {
        fprintf(stderr, "mst_version() = \"%s\", header's MST_VERSION_STRING = \"%s\"\n", version,
                MST_VERSION_STRING);
        return 1;
    }

    int major = -1, minor = -1, patch = -1;
    CHECK_EQ_INT(sscanf(MST_VERSION_STRING, "%d.%d.%d", &major, &minor, &patch), 3);
    CHECK_EQ_INT(MST_VERSION_MAJOR, major);
    CHECK_EQ_INT(MST_VERSION_MINOR, minor);
    CHECK_EQ_INT(MST_VERSION_PATCH, patch);

    CHECK(mst_version() == version); /* a static string, not a fresh allocation per call */
    printf("libmst %s\n", version);
    return 0;
}
