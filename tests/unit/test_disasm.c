// SPDX-License-Identifier: BSD-2-Clause
/*
 * The checks every probe site passes (disasm__check) hold for every function
 * of real Go binaries: the Go test targets (built by both toolchains, in the
 * variants that lay text out differently) and the binaries of Go 1.13 to 1.27
 * in .cache/gobins (tests/gobins.sh). An entry that fails
 * them would be refused as a corrupt function table, so none may.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "disasm.h"
#include "gobin.h"
#include "unit.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Check every function of one binary; print what fails. */
static void check_binary(const char *label, const char *path)
{
	struct disasm_check c = {0};
	struct gobin *gb;
	size_t i, n, bad = 0, aligned32 = 0, undecodable = 0, empty = 0;
	double t0 = now();

	if (gobin__open(path, &gb)) {
		CHECK(0, "%s: cannot open %s", label, path);
		return;
	}
	n = gobin__nfuncs(gb);
	for (i = 0; i < n; i++) {
		const struct gobin_func *f = gobin__func(gb, i);
		int err = disasm__check(gb, f, &c);

		aligned32 += f->entry % 32 == 0;
		/* markers without code (go:textfipsstart), assembly capstone cannot decode */
		if (err && c.empty) {
			empty++;
			CHECK(strncmp(f->name, "go:", 3) == 0, "%s: %s has no code", label,
			      f->name);
			continue;
		}
		if (err && c.undecodable) {
			undecodable++;
			CHECK(f->asm_abi0 || (f->flag & 0x4),
			      "%s: %s (Go code) undecodable at 0x%lx", label, f->name,
			      (unsigned long)c.undecodable);
			continue;
		}
		if (err && bad++ < 5)
			fprintf(stderr, "    %s: %s at 0x%lx: %s\n", label, f->name,
				(unsigned long)f->entry, c.why);
		if (!err)
			CHECK(disasm__is_start(&c, f->entry), "%s: %s: entry not a start", label,
			      f->name);
	}
	CHECK(bad == 0, "%s: %zu of %zu functions fail the entry checks", label, bad, n);
	printf("  %-22s %6zu functions, %6zu 32-byte aligned, %zu assembly undecodable, %zu "
	       "markers; %.0f ms\n",
	       label, n, aligned32, undecodable, empty, (now() - t0) * 1e3);
	disasm__check_release(&c);
	gobin__free(gb);
}

static void test_every_function_of_the_release_binaries_passes(void)
{
	char line[1024], label[32], path[512];
	FILE *p = popen("tests/gobins.sh --list 2>/dev/null", "r");
	int seen = 0;

	while (p && fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%31s %511s", label, path) == 2) {
			check_binary(label, path);
			seen++;
		}
	}
	if (p)
		pclose(p);
	if (!seen)
		SKIP("no release binaries (tests/gobins.sh)");
}

/* The targets built by one toolchain (tests/go/build.sh): .output/go, .output/go-new. */
static int check_targets(const char *top)
{
	DIR *d = opendir(top);
	struct dirent *t;
	int seen = 0;

	if (!d)
		return 0;
	while ((t = readdir(d))) {
		char dir[300];
		DIR *vd;
		struct dirent *v;

		if (t->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", top, t->d_name);
		vd = opendir(dir);
		while (vd && (v = readdir(vd))) {
			char path[900], label[600];

			/* the variants that lay text out differently */
			if (v->d_name[0] == '.' ||
			    (strcmp(v->d_name, "default") && strcmp(v->d_name, "pie") &&
			     strcmp(v->d_name, "cgo-pie")))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, v->d_name);
			snprintf(label, sizeof(label), "%s/%s", dir + 8, v->d_name);
			check_binary(label, path);
			seen++;
		}
		if (vd)
			closedir(vd);
	}
	closedir(d);
	return seen;
}

static void test_every_function_of_the_go_targets_passes(void)
{
	/* built by Go 1.19, and by the newest Go on the machine */
	if (!check_targets(".output/go") + !check_targets(".output/go-new") == 2)
		SKIP("no Go targets built");
}

int main(void)
{
	RUN(test_every_function_of_the_release_binaries_passes);
	RUN(test_every_function_of_the_go_targets_passes);
	return unit_summary();
}
