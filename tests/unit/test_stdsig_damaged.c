// SPDX-License-Identifier: BSD-2-Clause
/*
 * The std signature table as the build embeds it, but damaged: this test
 * supplies its own compressed table in place of the build's (stdsig_tab.o),
 * one per child process since a table loads once. A damaged table gives one
 * message and an error from every call, never a crash or a wrong entry; a
 * well-formed small one is read as written.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "stdsig.h"
#include "unit.h"

/* What src/go/stdsig.c reads in place of the build's table */
unsigned char stdsig_gz[1 << 16];
uint64_t stdsig_gz_size;

static const char good[] = "# a table\n"
			   "go\t26\n"
			   "funcs\t3\n"
			   "a.F\t0-5\t-\tx int\t-\n"
			   "a.F\t5\tv\tx int|y []string\t_ error\n"
			   "a.T.M\t3\t-\tt a.T\t_ bool\n"
			   "types\t1\n"
			   "a.T\tfixed\tuint32\n";

static void gzip_into_table(const char *text, size_t len)
{
	z_stream z = {0};

	if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)len;
	z.next_out = stdsig_gz;
	z.avail_out = sizeof(stdsig_gz);
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	stdsig_gz_size = z.total_out;
	deflateEnd(&z);
}

/*
 * In a child: load the table prepared by setup, look symbol up in release
 * minor, and write "err|message|params" back.
 */
static void run_child(void (*setup)(void), const char *symbol, int minor, char *out, size_t len)
{
	int fd[2];
	pid_t pid;
	ssize_t n;

	out[0] = '\0';
	if (pipe(fd))
		return;
	pid = fork();
	if (pid == 0) {
		static struct stdsig s;
		char buf[1024];
		int err;

		close(fd[0]);
		setup();
		err = stdsig__lookup(symbol, minor, &s);
		snprintf(buf, sizeof(buf), "%d|%s|%s %s|%zu|%zu", err, lp_lasterr(),
			 err ? "" : s.params[s.nparams - 1].name,
			 err ? "" : s.params[s.nparams - 1].type, stdsig__count(),
			 stdsig__ntypes());
		if (write(fd[1], buf, strlen(buf)) < 0)
			_exit(2);
		_exit(0);
	}
	close(fd[1]);
	n = read(fd[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	waitpid(pid, NULL, 0);
}

static void setup_good(void)
{
	gzip_into_table(good, strlen(good));
}

static void setup_garbage(void)
{
	memset(stdsig_gz, 0x5a, 200);
	stdsig_gz_size = 200;
}

static void setup_truncated(void)
{
	gzip_into_table(good, strlen(good));
	stdsig_gz_size -= 10;
}

static void setup_huge_size(void)
{
	gzip_into_table(good, strlen(good));
	memset(stdsig_gz + stdsig_gz_size - 4, 0xff, 4);
}

static void setup_empty(void)
{
	stdsig_gz_size = 0;
}

static void setup_unsorted(void)
{
	static const char t[] = "go\t26\nfuncs\t2\nb.F\t0\t-\t-\t-\na.F\t0\t-\t-\t-\ntypes\t0\n";

	gzip_into_table(t, strlen(t));
}

static void setup_short_count(void)
{
	static const char t[] = "go\t26\nfuncs\t5\na.F\t0\t-\t-\t-\ntypes\t0\n";

	gzip_into_table(t, strlen(t));
}

static void setup_bad_releases(void)
{
	static const char t[] = "go\t26\nfuncs\t1\na.F\tx\t-\t-\t-\ntypes\t0\n";

	gzip_into_table(t, strlen(t));
}

static void setup_no_types(void)
{
	static const char t[] = "go\t26\nfuncs\t1\na.F\t0\t-\t-\t-\n";

	gzip_into_table(t, strlen(t));
}

static void setup_bad_type_line(void)
{
	static const char t[] = "go\t26\nfuncs\t1\na.F\t0\t-\t-\t-\ntypes\t1\na.T\tfixed\n";

	gzip_into_table(t, strlen(t));
}

static void test_a_small_table_is_read_as_written(void)
{
	char out[1200];

	run_child(setup_good, "a.F", 4, out, sizeof(out));
	CHECK_STR(out, "0||x int|3|1");
	run_child(setup_good, "a.F", 9, out, sizeof(out));
	CHECK_STR(out, "0||y []string|3|1");
	run_child(setup_good, "a.(*T).M", 9, out, sizeof(out));
	CHECK_STR(out, "0||t *a.T|3|1");
	run_child(setup_good, "a.T.M", 2, out, sizeof(out));
	CHECK_STR(out, "-2|| |3|1");
}

static void test_a_damaged_table_gives_one_message(void)
{
	static const struct {
		const char *what;
		void (*setup)(void);
	} cases[] = {
		{"not gzip", setup_garbage},
		{"truncated", setup_truncated},
		{"a size of 4 GB in the gzip trailer", setup_huge_size},
		{"empty", setup_empty},
		{"unsorted", setup_unsorted},
		{"fewer lines than counted", setup_short_count},
		{"a release that is no number", setup_bad_releases},
		{"no types section", setup_no_types},
		{"a type line without its underlying type", setup_bad_type_line},
	};
	char out[1200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_child(cases[i].setup, "a.F", 26, out, sizeof(out));
		CHECK(strcmp(out, "-22|the table of Go standard library signatures built into "
				  "luprobe is damaged; rebuild luprobe| |0|0") == 0,
		      "%s: got \"%s\"", cases[i].what, out);
	}
}

int main(void)
{
	RUN(test_a_small_table_is_read_as_written);
	RUN(test_a_damaged_table_gives_one_message);
	return unit_summary();
}
