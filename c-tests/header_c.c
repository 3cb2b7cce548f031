/* mst.h on its own is a complete C11 header: it includes what it uses and compiles cleanly with
 * -std=c11 -Wall -Wextra -Wpedantic -Werror. Built (not run) by the header_c ctest. */
#include "mst.h"

#if !defined(MST_VERSION_MAJOR) || !defined(MST_VERSION_MINOR) || !defined(MST_VERSION_PATCH) ||   \
    !defined(MST_VERSION_STRING)
#error "mst.h must define the MST_VERSION_* macros"
#endif

_Static_assert(sizeof(MstStatus) == sizeof(int32_t), "MstStatus is 32 bits wide");
_Static_assert(MST_OK == 0, "MST_OK is 0");

const char *(*const header_c_version)(void) = mst_version;

/* MST_STRUCT_INIT initializes a size-prefixed struct, at file scope too. */
static const MstProcessorOptions header_c_options = MST_STRUCT_INIT(MstProcessorOptions);
const MstProcessorOptions *header_c_options_ptr = &header_c_options;
