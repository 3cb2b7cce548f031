// mst.hpp on its own is a complete C++17 header (it brings mst.h and every standard header it
// needs) that compiles cleanly with -Wall -Wextra -Wpedantic -Werror. Built (not run) by the
// header_hpp ctest.
#include "mst.hpp"

#include <type_traits>

static_assert(!std::is_copy_constructible<mst::Frame>::value, "handles are move-only");
static_assert(std::is_nothrow_move_constructible<mst::Processor>::value, "moves never throw");
static_assert(std::is_base_of<std::runtime_error, mst::Error>::value, "mst::Error is a runtime_error");
