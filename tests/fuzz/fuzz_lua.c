// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: the Lua layer (src/lua_*.c) over script text, through a
 * fake host as tests/unit/test_lua.c has it (no session; a tracer that is
 * never loaded, as before attach). The input is the script text, then
 * optionally a NUL and the bytes of events.
 *
 * The script runs as the main chunk with a small budget and memory limit,
 * as if tracing had started. Its probes are resolved and compiled by the
 * real resolver and compiler against the Go test target tests/go/types
 * (.output/go/types/default, opened once; whatever target= says), so their
 * plans are those of real functions and types. Then events are delivered
 * to the handlers, one per plan in turn: records of the plan whose header
 * and data are the bytes after the NUL (a made-up pattern when there are
 * none), so that e.args, e.ret, tostring(e), e:json() and what the handlers
 * aggregate run on decoded values of every kind. Then the timers fire once,
 * the on_exit handlers run and the state closes (finalizers). Whatever the
 * script does, it must end within the budget, without a sanitizer report
 * or an unprotected error. What could touch the machine (files, commands,
 * stdin) is removed first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include "binary.h"
#include "log.h"
#include "lua_api.h"
#include "output.h"
#include "probe.h"
#include "resolve.h"
#include "tracer.h"

#define MAX_TIMERS 16
#define MAX_EVENTS 32
#define DATA_MAX   2048 /* record data bytes, as large as a plan's records get */

static struct {
	bool stop;
	int refs[MAX_TIMERS], ntimers;
	unsigned state;
	struct probe_set *ps;
} host;

/*
 * The Go target the probes resolve in (NULL: not built), opened again every
 * REOPEN inputs: what it memoizes (types of declared specs, call sites)
 * grows with the inputs, and an input should not depend on many before it.
 */
#define REOPEN 1000
static struct binary *types_bin;
static unsigned inputs;

static int f_attach(void *ctx)
{
	return 0;
}

static int f_add_pid(void *ctx, pid_t pid)
{
	lp_seterr("attach(%d): no such process", (int)pid);
	return -ESRCH;
}

static int f_add_probe(void *ctx, struct probe *p)
{
	if (!types_bin)
		return 0;
	/* a scope's recovery site is a plan of the last input's tracer */
	types_bin->recover_known = false;
	return probe__resolve(host.ps, p, types_bin->path, -1);
}

static int f_add_timer(void *ctx, uint64_t ns, bool repeat, int ref)
{
	if (host.ntimers == MAX_TIMERS)
		return -ENOMEM;
	host.refs[host.ntimers] = ref;
	return ++host.ntimers;
}

static void f_cancel_timer(void *ctx, int id)
{
}

static unsigned f_state(void *ctx)
{
	return host.state;
}

static void f_stop(void *ctx, int code)
{
	host.stop = true;
}

static bool f_stopping(void *ctx)
{
	return host.stop;
}

static const struct lua_host_ops ops = {
	.attach = f_attach,
	.add_pid = f_add_pid,
	.add_probe = f_add_probe,
	.add_timer = f_add_timer,
	.cancel_timer = f_cancel_timer,
	.state = f_state,
	.stop = f_stop,
	.stopping = f_stopping,
};

/* nothing of the machine: no files, no commands, no stdin, no output */
static const char sandbox[] =
	"os.execute, os.remove, os.rename, os.tmpname, os.getenv = nil\n"
	"io.popen, io.open, io.input, io.output, io.lines, io.read, io.write = nil\n"
	"io.stdin, io.stdout, io.stderr = nil\n"
	"loadfile, dofile, print, printf = nil\n"
	"package.path = ''\n";

/*
 * The target: $LUPROBE_FUZZ_TARGET, else the one next to the fuzzer
 * (.output/fuzz/fuzz_lua -> .output/go/types/default), else in the current
 * directory's .output.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char self[PATH_MAX], path[PATH_MAX + 32];
	const char *env = getenv("LUPROBE_FUZZ_TARGET");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	/* printed events go through luprobe's stdout stream, as in a run, to nowhere */
	if (output__init() || output__redirect("/dev/null"))
		abort();
	if (env && !binary__open(env, &types_bin))
		return 0;
	if (n > 0) {
		self[n] = '\0';
		snprintf(path, sizeof(path), "%s/../go/types/default", dirname(self));
		if (!binary__open(path, &types_bin))
			return 0;
	}
	if (binary__open(".output/go/types/default", &types_bin)) {
		types_bin = NULL;
		fprintf(stderr, "fuzz_lua: no tests/go/types build: probes resolve nowhere\n");
	}
	lp_clearerr();
	return 0;
}

/*
 * One record for plan idx from the event bytes at *ev (advanced): a u16
 * length, then that many bytes of header and data; the header's type, plan
 * and data length are set to fit. Without event bytes, a pattern.
 */
static size_t make_record(uint32_t idx, const uint8_t **ev, size_t *left, unsigned k,
			  struct lp_rec *rec, size_t cap)
{
	size_t n = 0, len;
	uint8_t *d = (uint8_t *)rec;

	memset(rec, 0, cap);
	if (*left >= 2) {
		n = (*ev)[0] | (size_t)(*ev)[1] << 8;
		*ev += 2;
		*left -= 2;
		if (n > *left)
			n = *left;
		if (n > cap)
			n = cap;
		memcpy(rec, *ev, n);
		*ev += n;
		*left -= n;
		len = n > sizeof(*rec) ? n - sizeof(*rec) : 0;
		rec->type = LP_REC_CALL + rec->type % 3;
	} else {
		len = 512;
		for (size_t i = 0; i < len; i++)
			d[sizeof(*rec) + i] = (uint8_t)(i * 37 + k * 11 + (i % 8 ? 0 : 0x10));
		rec->type = LP_REC_CALL + k % 3;
		rec->latency = 1000 * (k + 1);
		rec->goid = k + 1;
		rec->stack_id = -1;
		rec->faults = k % 4 == 3 ? 0x5 : 0;
	}
	rec->plan = idx;
	rec->data_len = (uint16_t)len;
	return sizeof(*rec) + len;
}

/* Events to the script's handlers, one for each plan in turn. */
static void deliver(struct lua_script *ls, struct probe_set *ps, const uint8_t *ev, size_t left)
{
	static union {
		struct lp_rec rec;
		uint8_t bytes[sizeof(struct lp_rec) + DATA_MAX];
	} buf;
	uint32_t idx = 0;
	unsigned k;

	for (k = 0; k < MAX_EVENTS && !host.stop; k++) {
		size_t size, tries;

		for (tries = 0; tries < ps->plans_cap && !probe_set__plan(ps, idx); tries++)
			idx = (idx + 1) % ps->plans_cap;
		if (!probe_set__plan(ps, idx))
			return;
		size = make_record(idx, &ev, &left, k, &buf.rec, sizeof(buf));
		lua_api__event(ls, &buf.rec, size);
		idx = (idx + 1) % ps->plans_cap;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracer_opts topts = {0};
	struct probe_set ps = {0};
	struct lua_opts o = {.budget = 20000, .memory = 8 << 20, .ps = &ps};
	struct lua_host h = {.ops = &ops};
	struct lua_script *ls;
	char *code = malloc(size + 1);
	size_t text;
	int i;

	if (!code || tracer__new(&topts, &o.tracer)) {
		free(code);
		return 0;
	}
	ps.tracer = o.tracer;
	memcpy(code, data, size);
	code[size] = '\0';
	text = strlen(code);
	memset(&host, 0, sizeof(host));
	host.ps = &ps;
	if (types_bin && ++inputs % REOPEN == 0) {
		char *path = strdup(types_bin->path);

		binary__free(types_bin);
		types_bin = NULL;
		if (!path || binary__open(path, &types_bin))
			abort();
		free(path);
	}
	if (types_bin) {
		types_bin->next = NULL;
		ps.bins = types_bin;
	}
	if (lua_api__open(&o, &h, &ls)) {
		tracer__free(o.tracer);
		free(code);
		return 0;
	}
	if (lua_api__load_script(ls, sandbox) == 0)
		lua_api__run_script(ls);
	host.state = LUA_HOST_ATTACHED; /* the budget applies from here */
	if (lua_api__load_script(ls, code) == 0)
		lua_api__run_script(ls);
	if (ps.plans_cap)
		deliver(ls, &ps, data + text + (text < size), size - text - (text < size));
	for (i = 0; i < host.ntimers && !host.stop; i++)
		lua_api__call_ref(ls, host.refs[i], "timer");
	host.state |= LUA_HOST_ENDED;
	lua_api__run_exit(ls);
	lua_api__close(&ls);
	ps.bins = NULL; /* kept for the next input */
	probe_set__free(&ps);
	tracer__free(o.tracer);
	lp_clearerr();
	free(code);
	return 0;
}
