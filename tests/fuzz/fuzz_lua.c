// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: the Lua layer (src/lua_*.c) over script text, through a
 * fake host as tests/unit/test_lua.c has it (no session; a tracer that is
 * never loaded, as before attach). The
 * input runs as the main chunk with a small budget and memory limit, as if
 * tracing had started; then its timers fire once, the on_exit handlers run
 * and the state closes (finalizers). Whatever the script does, it must end
 * within the budget, without a sanitizer report or an unprotected error.
 * What could touch the machine (files, commands, stdin) is removed first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "lua_api.h"
#include "probe.h"
#include "tracer.h"

#define MAX_TIMERS 16

static struct {
	bool stop;
	int refs[MAX_TIMERS], ntimers;
	unsigned state;
} host;

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
	return 0;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracer_opts topts = {0};
	struct probe_set ps = {0};
	struct lua_opts o = {.budget = 20000, .memory = 8 << 20, .ps = &ps};
	struct lua_host h = {.ops = &ops};
	struct lua_script *ls;
	char *code = malloc(size + 1);
	int i;

	if (!code || tracer__new(&topts, &o.tracer)) {
		free(code);
		return 0;
	}
	ps.tracer = o.tracer;
	memcpy(code, data, size);
	code[size] = '\0';
	memset(&host, 0, sizeof(host));
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
	for (i = 0; i < host.ntimers && !host.stop; i++)
		lua_api__call_ref(ls, host.refs[i], "timer");
	host.state |= LUA_HOST_ENDED;
	lua_api__run_exit(ls);
	lua_api__close(&ls);
	probe_set__free(&ps);
	tracer__free(o.tracer);
	lp_clearerr();
	free(code);
	return 0;
}
