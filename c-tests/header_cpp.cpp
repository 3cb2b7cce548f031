// mst.h on its own is a complete C++17 header (extern "C", no C-only constructs) that compiles
// cleanly with -Wall -Wextra -Wpedantic -Werror. Built (not run) by the header_cpp ctest.
#include "mst.h"

#if !defined(MST_VERSION_MAJOR) || !defined(MST_VERSION_MINOR) || !defined(MST_VERSION_PATCH) ||   \
    !defined(MST_VERSION_STRING)
#error "mst.h must define the MST_VERSION_* macros"
#endif

static_assert(sizeof(MstStatus) == sizeof(int32_t), "MstStatus is 32 bits wide");
static_assert(MST_OK == 0, "MST_OK is 0");

extern const char *(*const header_cpp_version)(void);
const char *(*const header_cpp_version)(void) = mst_version;

// MST_STRUCT_INIT value-initializes a size-prefixed struct and sets its size.
extern const MstProcessorOptions header_cpp_options;
const MstProcessorOptions header_cpp_options = MST_STRUCT_INIT(MstProcessorOptions);
