/* Assertion macros for the C tests. Each failure prints file:line and the failing expression
 * to stderr and exits with status 1, so ctest (and valgrind or ASan around it) reports it. */
#ifndef MST_C_TESTS_COMMON_H
#define MST_C_TESTS_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "mst.h"

#define MST_TEST_FAIL_(...)                                                                    \
    do {                                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
        fprintf(stderr, __VA_ARGS__);                                                          \
        fputc('\n', stderr);                                                                   \
        exit(1);                                                                               \
    } while (0)

/* CHECK(cond): cond is true. */
#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) MST_TEST_FAIL_("CHECK(%s) failed", #cond);                                \
    } while (0)

/* CHECK_EQ_INT(a, b): two integers are equal; each is evaluated once. */
#define CHECK_EQ_INT(a, b)                                                                     \
    do {                                                                                       \
        long long mst_test_a_ = (long long)(a);                                                \
        long long mst_test_b_ = (long long)(b);                                                \
        if (mst_test_a_ != mst_test_b_)                                                        \
            MST_TEST_FAIL_("CHECK_EQ_INT(%s, %s) failed: %lld != %lld", #a, #b, mst_test_a_,   \
                           mst_test_b_);                                                       \
    } while (0)

/* CHECK_STATUS(expr, expected): the call returns the status `expected`. */
#define CHECK_STATUS(expr, expected)                                                           \
    do {                                                                                       \
        MstStatus mst_test_got_ = (expr);                                                      \
        MstStatus mst_test_want_ = (expected);                                                 \
        if (mst_test_got_ != mst_test_want_)                                                   \
            MST_TEST_FAIL_("%s returned %s (%d), expected %s (%d); last error: %s", #expr,     \
                           mst_status_str(mst_test_got_), (int)mst_test_got_,                  \
                           mst_status_str(mst_test_want_), (int)mst_test_want_,                \
                           mst_last_error_message());                                          \
    } while (0)

/* CHECK_OK(expr): the call returns MST_OK. */
#define CHECK_OK(expr) CHECK_STATUS(expr, MST_OK)

#endif /* MST_C_TESTS_COMMON_H */
