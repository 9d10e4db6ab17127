// A minimal check macro for the native unit tests: print the failed expression (and values) and
// abort, so ctest reports the test as failed and sanitizers print a stack.
#ifndef TMEM_TEST_CHECK_H
#define TMEM_TEST_CHECK_H

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

#define CHECK_EQ(a, b)                                                                       \
  do {                                                                                       \
    long long check_a_ = static_cast<long long>(a), check_b_ = static_cast<long long>(b);    \
    if (check_a_ != check_b_) {                                                              \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", __FILE__,    \
                   __LINE__, #a, #b, check_a_, check_b_);                                    \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

// Runs one test function and says so, so a failure's output shows which test it was in.
#define RUN(test)                          \
  do {                                     \
    std::printf("%s\n", #test);            \
    std::fflush(stdout);                   \
    test();                                \
  } while (0)

#endif
