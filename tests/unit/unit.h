/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A minimal unit-test harness. A test is a function; CHECK records a failure
 * with file:line and keeps going. main() calls RUN(test) for each and ends
 * with unit_summary(), which prints "N passed, N failed[, N skipped]" and
 * returns the exit code. tests/run.py reads that line.
 *
 *   static void test_parses_version(void) { CHECK(x == 1, "x=%d", x); }
 *   int main(void) { RUN(test_parses_version); return unit_summary(); }
 */
#ifndef LUPROBE_UNIT_H
#define LUPROBE_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_passed, unit_failed, unit_skipped;
static int unit_cur_failed, unit_cur_skipped;
static const char *unit_cur_name;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			unit_cur_failed++;                                                         \
			fprintf(stderr, "  %s:%d: %s: CHECK(%s) failed: ", __FILE__, __LINE__,     \
				unit_cur_name, #cond);                                             \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		CHECK(g_ && w_ && strcmp(g_, w_) == 0, "got \"%s\", want \"%s\"",                  \
		      g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                     \
	} while (0)

/* Mark the current test skipped (with a reason) and return from it. */
#define SKIP(...)                                                                                  \
	do {                                                                                       \
		unit_cur_skipped = 1;                                                              \
		fprintf(stderr, "  skip %s: ", unit_cur_name);                                     \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		return;                                                                            \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		unit_cur_name = #fn;                                                               \
		unit_cur_failed = 0;                                                               \
		unit_cur_skipped = 0;                                                              \
		fn();                                                                              \
		if (unit_cur_failed) {                                                             \
			unit_failed++;                                                             \
			printf("FAIL %s\n", #fn);                                                  \
		} else if (unit_cur_skipped) {                                                     \
			unit_skipped++;                                                            \
			printf("skip %s\n", #fn);                                                  \
		} else {                                                                           \
			unit_passed++;                                                             \
			printf("ok   %s\n", #fn);                                                  \
		}                                                                                  \
		fflush(stdout);                                                                    \
	} while (0)

/*
 * Path of a Go test target, e.g. gotarget("computee/default"): what
 * tests/go/build.sh built into .output/go, or into the directory that
 * $LUPROBE_GO_TARGETS names (tests/run.py runs a test that uses targets once
 * per toolchain that built a set). Paths live until exit.
 */
static inline const char *gotarget(const char *rel)
{
	static char *seen[64];
	const char *dir = getenv("LUPROBE_GO_TARGETS");
	char path[1024];
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : ".output/go", rel);
	for (i = 0; i < sizeof(seen) / sizeof(seen[0]) && seen[i]; i++)
		if (strcmp(seen[i], path) == 0)
			return seen[i];
	if (i == sizeof(seen) / sizeof(seen[0]) || !(seen[i] = strdup(path)))
		return "(no memory for more target paths)";
	return seen[i];
}

static inline int unit_summary(void)
{
	printf("%d passed, %d failed, %d skipped\n", unit_passed, unit_failed, unit_skipped);
	return unit_failed ? 1 : 0;
}

#endif
