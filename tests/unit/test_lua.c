// SPDX-License-Identifier: BSD-2-Clause
// UNIT-DEPS: lua_script lua_load trust lua_probe lua_event lua_globals event decode decode_text decode_json decode_lua probe resolve binary compile bounded tracer ring plan plan_prune plan_map predicate lualloc output strbuf util export_lua export otlp_http otlp_nest otlp_proto otlp_json
/*
 * The Lua layer on its own, through a fake host (no session, no tracer):
 * loading and its errors, the message handler, the budget, Ctrl-C, the
 * memory limit, timers, probe() and attach() reaching the host, source
 * text only, and what a script must not reach (the debug library,
 * package.loadlib, luprobe's metatables, finalizers outside the budget).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include "log.h"
#include "lua_api.h"
#include "probe.h"
#include "unit.h"
#include "util.h"

struct fake {
	unsigned state;
	bool stop;
	int stops, exit_code;
	int attaches;
	pid_t pids[8];
	int npids;
	char funcs[8][64];
	int nprobes, probe_err;
	struct {
		uint64_t ns;
		bool repeat, cancelled;
		int ref;
	} timers[8];
	int ntimers;
	bool interrupt_on_attach;
	struct lua_script *ls;
};

static int f_attach(void *ctx)
{
	struct fake *f = ctx;

	f->attaches++;
	if (f->interrupt_on_attach)
		lua_api__interrupt(f->ls); /* as Ctrl-C while the callback runs */
	return 0;
}

static int f_add_pid(void *ctx, pid_t pid)
{
	struct fake *f = ctx;

	if (pid == 99999) {
		lp_seterr("attach(%d): no such process", (int)pid);
		return -ESRCH;
	}
	f->pids[f->npids++] = pid;
	return 0;
}

static int f_add_probe(void *ctx, struct probe *p)
{
	struct fake *f = ctx;

	snprintf(f->funcs[f->nprobes++], sizeof(f->funcs[0]), "%s", p->spec.func);
	if (f->probe_err) {
		lp_seterr("%s: no such function in ./app", p->spec.func);
		return f->probe_err;
	}
	return 0;
}

static int f_add_timer(void *ctx, uint64_t ns, bool repeat, int ref)
{
	struct fake *f = ctx;
	int id = f->ntimers++;

	f->timers[id].ns = ns;
	f->timers[id].repeat = repeat;
	f->timers[id].ref = ref;
	return id + 1;
}

static void f_cancel_timer(void *ctx, int id)
{
	((struct fake *)ctx)->timers[id - 1].cancelled = true;
}

static unsigned f_state(void *ctx)
{
	return ((struct fake *)ctx)->state;
}

static void f_stop(void *ctx, int code)
{
	struct fake *f = ctx;

	f->stop = true;
	f->stops++;
	if (code >= 0)
		f->exit_code = code;
	else if (code == LUA_STOP_ERROR && !f->exit_code)
		f->exit_code = 1;
}

static bool f_stopping(void *ctx)
{
	return ((struct fake *)ctx)->stop;
}

static const struct lua_host_ops fake_ops = {
	.attach = f_attach,
	.add_pid = f_add_pid,
	.add_probe = f_add_probe,
	.add_timer = f_add_timer,
	.cancel_timer = f_cancel_timer,
	.state = f_state,
	.stop = f_stop,
	.stopping = f_stopping,
};

static struct probe_set ps;

/* A state with a budget and memory limit; the fake reports attached. */
static struct lua_script *open_with(struct fake *f, uint64_t budget, size_t memory,
				    const char *script)
{
	struct lua_opts o = {.budget = budget, .memory = memory, .script = script, .ps = &ps};
	struct lua_host h = {.ops = &fake_ops, .ctx = f};
	struct lua_script *ls = NULL;
	int err;

	memset(f, 0, sizeof(*f));
	f->state = LUA_HOST_ATTACHED;
	err = lua_api__open(&o, &h, &ls);
	CHECK(err == 0 && ls, "open: %d", err);
	f->ls = ls;
	return ls;
}

static struct lua_script *open_fake(struct fake *f)
{
	return open_with(f, 100000, 64 << 20, NULL);
}

static void close_fake(struct lua_script *ls)
{
	lua_api__close(&ls);
	probe_set__free(&ps);
	memset(&ps, 0, sizeof(ps));
}

/* Run code as the main chunk: 0, or -errno with lp_lasterr() saying why. */
static int run(struct lua_script *ls, const char *code)
{
	int err;

	lp_clearerr();
	err = lua_api__load_script(ls, code);
	return err ? err : lua_api__run_script(ls);
}

/* stderr into a file while a callback runs, to read what it printed */
static char captured[4096];
static int saved_fd = -1;
static FILE *cap;

static void capture_begin(void)
{
	fflush(stderr);
	cap = tmpfile();
	saved_fd = dup(2);
	dup2(fileno(cap), 2);
}

static const char *capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(cap);
	n = fread(captured, 1, sizeof(captured) - 1, cap);
	captured[n] = '\0';
	fclose(cap);
	return captured;
}

/* Fire timer i as the session's loop does, capturing what it printed. */
static const char *fire(struct fake *f, int i)
{
	capture_begin();
	lua_api__call_ref(f->ls, f->timers[i].ref, "timer");
	return capture_end();
}

static void test_syntax_errors_name_the_line(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);

	CHECK(run(ls, "x = = 1") == -EINVAL, "syntax error accepted");
	CHECK(strstr(lp_lasterr(), "(command line):1:"), "%s", lp_lasterr());
	close_fake(ls);
}

static void test_script_file_errors(void)
{
	struct fake f;
	struct lua_script *ls = open_with(&f, 0, 64 << 20, "/nonexistent/x.lua");

	lp_clearerr();
	CHECK(lua_api__load_script(ls, NULL) == -ENOENT, "missing script loaded");
	CHECK_STR(lp_lasterr(), "/nonexistent/x.lua: no such file");
	close_fake(ls);
	ls = open_with(&f, 0, 64 << 20, "/tmp");
	lp_clearerr();
	CHECK(lua_api__load_script(ls, NULL) == -EISDIR, "directory loaded");
	CHECK_STR(lp_lasterr(), "/tmp: is a directory");
	close_fake(ls);
}

static void test_main_chunk_errors_are_one_line_traceback_at_v(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);

	CHECK(run(ls, "error('boom')") == -EINVAL, "error not reported");
	CHECK_STR(lp_lasterr(), "(command line):1: boom");
	CHECK(run(ls, "error({})") == -EINVAL, "error object not reported");
	CHECK_STR(lp_lasterr(), "(command line):1: (error object is a table value)");
	lp_verbosity = 1;
	CHECK(run(ls, "local function f() error('deep') end f()") == -EINVAL, "no error");
	lp_verbosity = 0;
	CHECK(strstr(lp_lasterr(), "deep\nstack traceback:"), "%s", lp_lasterr());
	close_fake(ls);
}

static void test_callback_errors_have_a_traceback_and_stop_the_run(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);
	const char *out;

	CHECK(run(ls, "every(10, function() local x = nil; return x.y end)") == 0, "%s",
	      lp_lasterr());
	CHECK(f.ntimers == 1, "%d timers", f.ntimers);
	out = fire(&f, 0);
	CHECK(strstr(out, "luprobe: timer: (command line):1: attempt to index a nil value"),
	      "%s", out);
	CHECK(strstr(out, "stack traceback:"), "%s", out);
	CHECK(f.stop && f.exit_code == 1, "stop %d code %d", f.stop, f.exit_code);
	CHECK(lua_api__counts(ls)->errors == 1, "errors %llu",
	      (unsigned long long)lua_api__counts(ls)->errors);
	close_fake(ls);
}

static void test_budget_stops_a_runaway_callback_pcall_or_not(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);
	const char *out;

	CHECK(run(ls, "every(10, function() pcall(function() while true do end end) end)\n"
		      "every(10, function() local co = coroutine.wrap(function() while true do "
		      "end end) co() end)") == 0,
	      "%s", lp_lasterr());
	out = fire(&f, 0);
	CHECK(strstr(out, "callback ran more than 100000 instructions"), "%s", out);
	f.stop = false;
	out = fire(&f, 1);
	CHECK(strstr(out, "callback ran more than 100000 instructions"), "%s", out);
	CHECK(lua_api__counts(ls)->errors == 2, "errors %llu",
	      (unsigned long long)lua_api__counts(ls)->errors);
	close_fake(ls);
}

static void test_interrupt_stops_a_callback_cleanly(void)
{
	struct fake f;
	struct lua_script *ls = open_with(&f, 0, 64 << 20, NULL);
	const char *out;

	CHECK(run(ls, "every(10, function() attach() while true do end end)") == 0, "%s",
	      lp_lasterr());
	f.interrupt_on_attach = true;
	out = fire(&f, 0);
	CHECK(!*out, "printed: %s", out);
	CHECK(f.stop && f.exit_code == 0, "stop %d code %d", f.stop, f.exit_code);
	CHECK(lua_api__counts(ls)->errors == 0, "counted as an error");
	close_fake(ls);
}

static void test_memory_limit_ends_the_main_chunk_and_callbacks(void)
{
	struct fake f;
	struct lua_script *ls = open_with(&f, 0, 4 << 20, NULL);
	const char *out;

	CHECK(run(ls, "local t = {} for i = 1, 1e7 do t[i] = ('x'):rep(64) .. i end") ==
		      -ENOMEM,
	      "no memory error");
	CHECK_STR(lp_lasterr(), "(command line): the script's memory limit of 4 MiB was "
				"reached; raise it with --memory SIZE");
	close_fake(ls);
	ls = open_with(&f, 0, 4 << 20, NULL);
	CHECK(run(ls, "every(10, function() local t = {} for i = 1, 1e7 do "
		      "pcall(function() t[i] = ('x'):rep(64) .. i end) end end)") == 0,
	      "%s", lp_lasterr());
	out = fire(&f, 0);
	CHECK(strstr(out, "luprobe: timer: the script's memory limit of 4 MiB was reached"),
	      "%s", out);
	CHECK(f.stop && f.exit_code == 1, "stop %d code %d", f.stop, f.exit_code);
	close_fake(ls);
}

static void test_timers_reach_the_host(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);

	CHECK(run(ls, "t = every(10, function() end) after(0.5, function() end)\n"
		      "after(math.huge, function() end) t:cancel()") == 0,
	      "%s", lp_lasterr());
	CHECK(f.ntimers == 3, "%d timers", f.ntimers);
	CHECK(f.timers[0].ns == 10000000 && f.timers[0].repeat, "every: %llu",
	      (unsigned long long)f.timers[0].ns);
	CHECK(f.timers[1].ns == 500000 && !f.timers[1].repeat, "after: %llu",
	      (unsigned long long)f.timers[1].ns);
	CHECK(f.timers[2].ns == TIMER_NEVER, "after(math.huge): %llu",
	      (unsigned long long)f.timers[2].ns);
	CHECK(f.timers[0].cancelled && !f.timers[1].cancelled, "cancel");
	CHECK(run(ls, "every(0.5, function() end)") == -EINVAL, "every(0.5) accepted");
	CHECK(strstr(lp_lasterr(), "interval must be at least 1 ms"), "%s", lp_lasterr());
	close_fake(ls);
}

static void test_probe_and_attach_reach_the_host(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);

	f.state = 0;
	CHECK(run(ls, "p = probe{ func = 'main.computeE' } q = probe 'main.f'\n"
		      "assert(p.func == 'main.computeE' and p.id == 1 and q.id == 2)\n"
		      "attach(1234) attach()") == 0,
	      "%s", lp_lasterr());
	CHECK(f.nprobes == 2, "%d probes", f.nprobes);
	CHECK_STR(f.funcs[0], "main.computeE");
	CHECK_STR(f.funcs[1], "main.f");
	CHECK(f.npids == 1 && f.pids[0] == 1234, "pids %d", f.npids);
	CHECK(f.attaches == 2, "%d attaches", f.attaches);
	CHECK(run(ls, "attach(99999)") == -EINVAL, "attach error lost");
	CHECK_STR(lp_lasterr(), "(command line):1: attach(99999): no such process");
	f.probe_err = -ENOENT;
	CHECK(run(ls, "probe{ func = 'main.nope' }") == -EINVAL, "probe error lost");
	CHECK_STR(lp_lasterr(), "(command line):1: main.nope: no such function in ./app");
	CHECK(run(ls, "probe{ fnuc = 'x' }") == -EINVAL, "unknown field accepted");
	CHECK_STR(lp_lasterr(), "(command line):1: probe: unknown field 'fnuc'");
	f.state = LUA_HOST_ATTACHED | LUA_HOST_ENDED;
	CHECK(run(ls, "probe 'main.g'") == -EINVAL, "probe after the end");
	CHECK(strstr(lp_lasterr(), "probe: the run has ended"), "%s", lp_lasterr());
	close_fake(ls);
}

static void test_exit_and_os_exit_stop_the_run(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);

	CHECK(run(ls, "exit(3) reached = true") == 0, "%s", lp_lasterr());
	CHECK(f.stop && f.exit_code == 3, "exit(3): %d", f.exit_code);
	CHECK(run(ls, "assert(reached) os.exit(4) error('not reached')") == 0, "%s", lp_lasterr());
	CHECK(f.exit_code == 4, "os.exit(4): %d", f.exit_code);
	CHECK(run(ls, "exit(256)") == -EINVAL, "exit(256) accepted");
	close_fake(ls);
}

static void test_only_source_text_loads(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);

	CHECK(run(ls, "local f, err = load(string.dump(function() end))\n"
		      "assert(f == nil and err:find('precompiled Lua bytecode'), err)\n"
		      "f, err = load(string.dump(function() end), 'x', 'b')\n"
		      "assert(f == nil and err:find('precompiled'), err)\n"
		      "assert(load('return 1')() == 1)\n"
		      "assert(package.cpath == '')") == 0,
	      "%s", lp_lasterr());
	close_fake(ls);
}

static void test_scripts_cannot_reach_hooks_native_code_or_metatables(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);

	f.state = 0;
	CHECK(run(ls, "assert(debug.sethook == nil and debug.setmetatable == nil)\n"
		      "assert(debug.getregistry == nil and debug.setupvalue == nil)\n"
		      "assert(debug.traceback and debug.getinfo and require('debug') == debug)\n"
		      "assert(package.loadlib == nil)\n"
		      "local p = probe 'main.f'\n"
		      "assert(getmetatable(p) == false)\n"
		      "assert(getmetatable(every(10, function() end)) == false)\n"
		      "assert(not pcall(setmetatable, p, {}))") == 0,
	      "%s", lp_lasterr());
	close_fake(ls);
}

static void test_finalizers_run_under_the_budget(void)
{
	struct fake f;
	struct lua_script *ls = open_fake(&f);
	const char *out;

	/* __gc set after setmetatable: Lua would call it with hooks off */
	CHECK(run(ls, "local mt = { __gc = true }\n"
		      "keep = setmetatable({}, mt)\n"
		      "mt.__gc = function() while true do end end\n"
		      "n = 0 setmetatable({}, { __gc = function() n = n + 1 end })\n"
		      "collectgarbage() collectgarbage() assert(n == 1)\n"
		      "every(10, function() keep = nil collectgarbage() collectgarbage() end)") ==
		      0,
	      "%s", lp_lasterr());
	out = fire(&f, 0);
	CHECK(strstr(out, "callback ran more than 100000 instructions"), "%s", out);
	close_fake(ls);
}

int main(void)
{
	RUN(test_syntax_errors_name_the_line);
	RUN(test_script_file_errors);
	RUN(test_main_chunk_errors_are_one_line_traceback_at_v);
	RUN(test_callback_errors_have_a_traceback_and_stop_the_run);
	RUN(test_budget_stops_a_runaway_callback_pcall_or_not);
	RUN(test_interrupt_stops_a_callback_cleanly);
	RUN(test_memory_limit_ends_the_main_chunk_and_callbacks);
	RUN(test_timers_reach_the_host);
	RUN(test_probe_and_attach_reach_the_host);
	RUN(test_exit_and_os_exit_stop_the_run);
	RUN(test_only_source_text_loads);
	RUN(test_scripts_cannot_reach_hooks_native_code_or_metatables);
	RUN(test_finalizers_run_under_the_budget);
	return unit_summary();
}
