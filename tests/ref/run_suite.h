/* tests/ref/run_suite.h — the end of every Check test program's main. */
#ifndef HEFT_TESTS_REF_RUN_SUITE_H
#define HEFT_TESTS_REF_RUN_SUITE_H

#include <check.h>

/* Runs the suite (Check's default fork mode, normal verbosity), frees it and
 * returns the process exit status: EXIT_FAILURE if any test failed. */
int run_suite(Suite *s);

#endif
