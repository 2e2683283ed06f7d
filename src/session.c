// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "capstone_loader.h"
#include "log.h"
#include "lua_api.h"
#include "export.h"
#include "metrics.h"
#include "output.h"
#include "prometheus.h"
#include "resolve.h"
#include "session.h"
#include "util.h"

volatile sig_atomic_t lp_signalled;
static struct session *signal_session;

static void on_signal(int sig)
{
	struct session *s = signal_session;
	int i;

	if (lp_signalled) {
		/*
		 * A second Ctrl-C: die now; the kernel drops our probes with our
		 * fds. The command must not outlive luprobe: it gets SIGKILL, as
		 * luprobe gives it after a grace period when it exits normally.
		 */
		for (i = 0; s && i < s->ntargets; i++)
			if (s->targets[i].launched && s->targets[i].released &&
			    !s->targets[i].exited && s->targets[i].pid > 0)
				kill(s->targets[i].pid, SIGKILL);
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	lp_signalled = sig;
	if (s)
		lua_api__interrupt(s->lua);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: epoll_wait returns at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int add_pid(struct session *s, pid_t pid);
static int trace_pid(struct session *s, pid_t pid);
static int add_timer(struct session *s, uint64_t interval_ns, bool repeat, int fn_ref);
static void cancel_timer(struct session *s, int id);
static int resolve_probe(struct session *s, struct probe *p);

/* ---- the host interface of the Lua layer ---- */

static int host_attach(void *ctx)
{
	return session__attach(ctx);
}

static int host_add_pid(void *ctx, pid_t pid)
{
	return trace_pid(ctx, pid);
}

static int host_add_probe(void *ctx, struct probe *p)
{
	return resolve_probe(ctx, p);
}

static int host_add_timer(void *ctx, uint64_t ns, bool repeat, int fn_ref)
{
	return add_timer(ctx, ns, repeat, fn_ref);
}

static void host_cancel_timer(void *ctx, int id)
{
	cancel_timer(ctx, id);
}

static unsigned host_state(void *ctx)
{
	struct session *s = ctx;

	return (s->attached ? LUA_HOST_ATTACHED : 0) | (s->dropped ? LUA_HOST_DROPPED : 0) |
	       (s->ended ? LUA_HOST_ENDED : 0);
}

static void host_stop(void *ctx, int exit_code)
{
	struct session *s = ctx;

	s->stop = true;
	if (exit_code >= 0) {
		s->exit_code = exit_code;
		s->exit_code_set = true;
	} else if (exit_code == LUA_STOP_ERROR && !s->exit_code_set) {
		s->exit_code = 1;
		s->exit_code_set = true;
	}
}

static bool host_stopping(void *ctx)
{
	return ((struct session *)ctx)->stop;
}

static const struct lua_host_ops host_ops = {
	.attach = host_attach,
	.add_pid = host_add_pid,
	.add_probe = host_add_probe,
	.add_timer = host_add_timer,
	.cancel_timer = host_cancel_timer,
	.state = host_state,
	.stop = host_stop,
	.stopping = host_stopping,
};

static int open_lua(struct session *s)
{
	const struct env *env = s->env;
	struct lua_opts o = {
		.budget = env->lua_budget,
		.memory = env->memory,
		.keep_going = env->keep_going,
		.json = env->json,
		.user = env->user,
		.script = env->script,
		.includes = env->includes,
		.nincludes = env->nincludes,
		.script_args = env->script_args,
		.nscript_args = env->nscript_args,
		.ps = &s->ps,
		.tracer = s->tracer,
		.exporter = s->exp,
	};
	struct lua_host host = {.ops = &host_ops, .ctx = s};

	return lua_api__open(&o, &host, &s->lua);
}

/* luprobe.pids */
static void publish_pids(struct session *s)
{
	pid_t pids[MAX_TARGETS];
	int i;

	for (i = 0; i < s->ntargets; i++)
		pids[i] = s->targets[i].pid;
	lua_api__set_pids(s->lua, pids, s->ntargets);
}

/* ---- what --metrics exports: luprobe's own counters, then the script's aggregations ---- */

static void add_counter(struct metric_set *set, const char *name, const char *help, uint64_t v)
{
	metric_set__int(set, metric_set__family(set, name, NULL, METRIC_COUNTER, help), NULL, NULL,
			(int64_t)v);
}

static void add_gauge(struct metric_set *set, const char *name, const char *help, uint64_t v)
{
	metric_set__int(set, metric_set__family(set, name, NULL, METRIC_GAUGE, help), NULL, NULL,
			(int64_t)v);
}

/* Per probe: its events, whether it is enabled, how many functions it covers. */
static void collect_probes(struct session *s, struct metric_set *set)
{
	static const char *const names[] = {"luprobe_probe_events", "luprobe_probe_enabled",
					    "luprobe_probe_functions"};
	static const char *const helps[] = {
		"Events of the probe delivered to the script",
		"Whether the probe is enabled (p:enable(), p:disable())",
		"Functions the probe covers (a glob covers several)",
	};
	struct metric_family *f[3];
	char id[16];
	size_t i, k;

	for (k = 0; k < 3; k++)
		f[k] = metric_set__family(set, names[k], NULL, k ? METRIC_GAUGE : METRIC_COUNTER,
					  helps[k]);
	for (i = 0; i < s->ps.nprobes; i++) {
		const struct probe *p = s->ps.probes[i];
		uint64_t v[3] = {p->events, p->enabled, p->nplans};

		snprintf(id, sizeof(id), "%u", p->id + 1);
		for (k = 0; k < 3; k++) {
			struct metric_sample *m = metric_set__sample(set, f[k]);

			metric_set__label(set, m, "probe", id);
			metric_set__label(set, m, "function", p->spec.func);
			if (m)
				m->value = metric_int((int64_t)v[k]);
		}
	}
}

static int collect_metrics(void *ctx, struct metric_set *set)
{
	struct session *s = ctx;
	const struct lua_counts *c = lua_api__counts(s->lua);
	uint64_t st[LP_NSTATS] = {0}, batches = 0, cut = 0;
	struct metric_sample *m;

	tracer__stats(s->tracer, st);
	tracer__batches(s->tracer, &batches, &cut);
	add_counter(set, "luprobe_events", "Events delivered to the script", c->delivered);
	add_counter(set, "luprobe_events_lost", "Events lost because the ring buffer was full",
		    st[LP_STAT_LOST]);
	add_counter(set, "luprobe_events_undelivered",
		    "Events that came after the run was told to stop", c->undelivered);
	add_counter(set, "luprobe_errors", "Errors in the script's callbacks", c->errors);
	add_counter(set, "luprobe_calls_filtered",
		    "Calls a where = predicate dropped in the kernel", st[LP_STAT_FILTERED]);
	add_counter(set, "luprobe_calls_unpaired",
		    "Calls whose entry could not be kept for pairing with their return",
		    st[LP_STAT_CALLS_FULL] + st[LP_STAT_NESTED]);
	add_counter(set, "luprobe_returns_unmatched", "Returns without an entry",
		    st[LP_STAT_UNMATCHED]);
	add_counter(set, "luprobe_read_faults", "Reads of the traced memory that faulted",
		    st[LP_STAT_FAULTS]);
	add_counter(set, "luprobe_aggregation_updates_dropped",
		    "In-kernel aggregation updates dropped because the map was full",
		    st[LP_STAT_AGG_FULL]);
	add_counter(set, "luprobe_batches_cut",
		    "Batches of events cut short so that timers and signals kept their time", cut);
	add_gauge(set, "luprobe_probes", "Probes of the script", s->ps.nprobes);
	add_gauge(set, "luprobe_uprobes_attached", "Uprobes attached", tracer__nlinks(s->tracer));
	m = metric_set__sample(
		set, metric_set__family(set, "luprobe_start_time", "seconds", METRIC_GAUGE,
					"When the run started, since the Unix epoch"));
	if (m)
		m->value = metric_float(s->started_wall_ns / 1e9);
	if (s->exp) {
		struct export_stats es;

		export__stats(s->exp, &es);
		add_counter(set, "luprobe_otlp_spans_sent", "Spans the OTLP collector accepted",
			    es.sent);
		add_counter(set, "luprobe_otlp_spans_dropped",
			    "Spans dropped because the export queue was full", es.dropped);
		add_counter(set, "luprobe_otlp_spans_failed",
			    "Spans the collector did not take after retries, or left at exit",
			    es.failed);
		add_gauge(set, "luprobe_otlp_spans_queued", "Spans waiting to be sent", es.queued);
	}
	collect_probes(s, set);
	return set->err ? set->err : lua_api__metrics(s->lua, set);
}

static int open_metrics(struct session *s)
{
	int err;

	if (!s->env->metrics)
		return 0;
	err = prometheus__open(s->env->metrics, collect_metrics, s, &s->prom);
	if (err)
		return err;
	if (!s->env->quiet)
		fprintf(stderr, "luprobe: metrics at http://%s/metrics\n",
			prometheus__address(s->prom));
	return 0;
}

static int open_export(struct session *s)
{
	struct export_opts o = {.url = s->env->otlp, .json = s->env->otlp_json};
	int err;

	if (!s->env->otlp)
		return 0;
	err = export__open(&o, &s->exp);
	if (err)
		return err;
	pr_info("luprobe: spans to http://%s (OTLP/HTTP %s)\n", export__address(s->exp),
		s->env->otlp_json ? "JSON" : "protobuf");
	return 0;
}

int session__init(struct session *s, struct env *env)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->env = env;
	s->started_ns = now_ns();
	s->started_wall_ns = util__wall_ns(s->started_ns);
	signal_session = s;
	install_signals();
	err = open_metrics(s);
	if (!err)
		err = open_export(s);
	if (err)
		return err;

	err = tracer__new(&env->topts, &s->tracer);
	if (!err)
		tracer__warm_up(s->tracer);
	if (err)
		return err;
	s->ps.tracer = s->tracer;
	s->ps.interrupted = &lp_signalled;
	s->ps.debug_file = env->debug_file;
	return open_lua(s);
}

int session__open_targets(struct session *s)
{
	int err, i;

	if (s->env->command) {
		err = target__launch(s->env->command, s->env->user ? &s->env->as : NULL,
				     &s->targets[0]);
		if (err)
			return err;
		s->ntargets = 1;
	}
	for (i = 0; i < s->env->npids; i++) {
		err = add_pid(s, s->env->pids[i]);
		if (err)
			return err;
	}
	publish_pids(s);
	return 0;
}

/* Add a running process as a target (-p). */
static int add_pid(struct session *s, pid_t pid)
{
	int i, err;

	for (i = 0; i < s->ntargets; i++)
		if (s->targets[i].pid == pid)
			return 0;
	if (s->ntargets == MAX_TARGETS) {
		lp_seterr("too many target processes (at most %d)", MAX_TARGETS);
		return -E2BIG;
	}
	err = target__open_pid(pid, &s->targets[s->ntargets]);
	if (err)
		return err;
	/* a thread id names its process, which may be traced already */
	for (i = 0; i < s->ntargets; i++) {
		if (s->targets[i].pid == s->targets[s->ntargets].pid) {
			target__close(&s->targets[s->ntargets]);
			return 0;
		}
	}
	s->ntargets++;
	return 0;
}

/* Follow t's execs: its probes are bound to the image it runs now. */
static void watch_target(struct session *s, struct target *t)
{
	/* a command not started yet: its own exec is not news, and it is held at later ones */
	bool hold = t->launched && !t->released;

	if (t->watched || t->exited || !tracer__loaded(s->tracer))
		return;
	if (tracer__watch(s->tracer, t->pid, hold, hold ? 1 : 0)) {
		fprintf(stderr,
			"luprobe: %s; if it executes a new image, calls after that are "
			"not traced\n",
			lp_lasterr());
		lp_clearerr();
		return;
	}
	t->watched = true;
}

static void unwatch_exited(struct session *s, bool keep_children)
{
	int i;

	/*
	 * Before a pid could be reused: a launched child is reaped right here,
	 * unless its events are still coming (a zombie keeps its pid).
	 */
	for (i = 0; i < s->ntargets; i++) {
		if (keep_children && s->targets[i].launched)
			continue;
		if (s->targets[i].watched && target__poll_exit(&s->targets[i])) {
			tracer__unwatch(s->tracer, s->targets[i].pid);
			s->targets[i].watched = false;
		}
	}
}

/* Every probe without target = covers t too. */
static int cover_target(struct session *s, const struct target *t)
{
	size_t i;
	int err;

	for (i = 0; i < s->ps.nprobes; i++) {
		struct probe *p = s->ps.probes[i];

		if (p->spec.target)
			continue;
		err = probe__resolve_fd(&s->ps, p, t->path, t->exe_fd, t->pid);
		if (!err && s->attached)
			err = probe__attach(&s->ps, p);
		if (err)
			return err;
	}
	return 0;
}

/* Attach what is not attached yet of every probe (tracing has started). */
static int attach_all(struct session *s)
{
	size_t i;
	int err = 0;

	for (i = 0; i < s->ps.nprobes && !err; i++)
		err = probe__attach(&s->ps, s->ps.probes[i]);
	return err;
}

/* A new probe: resolve it in its target or every target; attach it once tracing has started. */
static int resolve_probe(struct session *s, struct probe *p)
{
	int i, err = 0;

	if (p->spec.target) {
		err = probe__resolve(&s->ps, p, p->spec.target, -1);
	} else if (!s->ntargets) {
		lp_seterr("%s: no process to trace: give target = \"path\" in the probe, -p PID, "
			  "or -- COMMAND",
			  p->spec.func);
		return -EINVAL;
	}
	for (i = 0; !p->spec.target && i < s->ntargets && !err; i++)
		err = probe__resolve_fd(&s->ps, p, s->targets[i].path, s->targets[i].exe_fd,
					s->targets[i].pid);
	if (!err && s->attached)
		err = probe_set__check_replaced(&s->ps, !s->dropped);
	if (err > 0)
		err = attach_all(s);
	if (!err && s->attached)
		err = probe__attach(&s->ps, p);
	return err;
}

/* Forget every probe point and link of process pid. */
static void uncover_pid(struct session *s, pid_t pid)
{
	size_t i;

	if (s->tracer)
		tracer__detach_pid(s->tracer, pid);
	for (i = 0; i < s->ps.nprobes; i++)
		probe__reset_pid(s->ps.probes[i], pid, NULL);
}

/*
 * attach(pid): add a running process as a target and resolve every probe
 * without target = for it, attaching them if tracing has started. On an
 * error (named "attach(PID): ...") nothing of it is left.
 */
static int trace_pid(struct session *s, pid_t pid)
{
	char msg[512];
	int i, n = s->ntargets, err;

	for (i = 0; i < s->ntargets; i++)
		if (s->targets[i].pid == pid)
			return 0;
	err = add_pid(s, pid);
	if (err)
		return err;
	if (s->ntargets == n)
		return 0; /* a thread of a process traced already */
	lp_clearerr();
	err = cover_target(s, &s->targets[s->ntargets - 1]);
	if (err) {
		snprintf(msg, sizeof(msg), "%s", *lp_lasterr() ? lp_lasterr() : strerror(-err));
		uncover_pid(s, pid);
		target__close(&s->targets[--s->ntargets]);
		lp_seterr("attach(%d): %s", (int)pid, msg);
		return err;
	}
	watch_target(s, &s->targets[s->ntargets - 1]);
	publish_pids(s);
	return 0;
}

/*
 * A target executed a new image: the links made for its pid are dead or
 * stale, and what they were made for may no longer be there. Detach them,
 * forget its call and scope state, and attach its probes again: the same
 * points if it runs the same file, else resolved for the new one. A command
 * luprobe launched is stopped at the exec (lp_exec) and resumed once that is
 * done, so it misses nothing; a process given by pid runs on meanwhile, and
 * the time it ran untraced is reported.
 */
static void on_exec(struct session *s, const struct lp_rec *rec)
{
	struct target *t = NULL;
	const struct binary *keep = NULL;
	dev_t dev;
	ino_t ino;
	bool held;
	size_t i;
	int err = 0;

	for (i = 0; i < (size_t)s->ntargets && !t; i++)
		if (s->targets[i].pid == (pid_t)rec->pid)
			t = &s->targets[i];
	if (!t)
		return;
	held = t->launched;
	/* the run has ended, the probes are detached: only let it go on */
	if (s->ended || !t->watched || t->exited) {
		if (held && !target__poll_exit(t))
			kill(t->pid, SIGCONT); /* never leave it stopped */
		return;
	}
	dev = t->dev;
	ino = t->ino;
	lp_clearerr();
	if (target__exe(t) == 0 && t->dev == dev && t->ino == ino)
		for (keep = s->ps.bins; keep && (keep->dev != dev || keep->ino != ino);
		     keep = keep->next)
			;
	tracer__detach_pid(s->tracer, t->pid);
	for (i = 0; i < s->ps.nprobes; i++)
		probe__reset_pid(s->ps.probes[i], t->pid, keep);
	tracer__forget_pid(s->tracer, t->pid);
	if (s->dropped) {
		lp_seterr("no probe can be attached after luprobe switched to user %s (--user)",
			  s->env->user);
		err = -EPERM;
	} else if (keep) {
		for (i = 0; i < s->ps.nprobes && !err; i++)
			err = probe__attach(&s->ps, s->ps.probes[i]);
	} else {
		err = cover_target(s, t);
	}
	if (err) {
		fprintf(stderr,
			"luprobe: process %d executed %s: %s; it is not traced from now on\n",
			(int)t->pid, t->path, *lp_lasterr() ? lp_lasterr() : strerror(-err));
		lp_clearerr();
		tracer__detach_pid(s->tracer, t->pid);
		for (i = 0; i < s->ps.nprobes; i++)
			probe__reset_pid(s->ps.probes[i], t->pid, NULL);
	}
	if (held) {
		kill(t->pid, SIGCONT);
		pr_info("luprobe: process %d executed %s; held %.1f ms while its probes were "
			"attached again\n",
			(int)t->pid, t->path, (now_ns() - rec->ts) / 1e6);
	} else if (!err) {
		uint64_t gap = now_ns() - rec->ts;

		t->untraced_ns += gap;
		fprintf(stderr,
			"luprobe: process %d executed %s; its probes were attached again after "
			"%.1f ms: calls in that time were not traced\n",
			(int)t->pid, t->path, gap / 1e6);
	}
}

static int on_record(void *ctx, const struct lp_rec *rec, size_t size)
{
	struct session *s = ctx;

	if (rec->type == LP_REC_EXEC) {
		on_exec(ctx, rec);
		return 0;
	}
	/* a call (entry and return) is a span; what a script does with it is its own */
	if (s->exp && rec->type != LP_REC_ENTRY && !s->stop) {
		const struct planinfo *pi = probe_set__plan(&s->ps, rec->plan);

		if (pi && pi->probe->enabled)
			export__record(s->exp, rec, size, pi);
	}
	return lua_api__event(s->lua, rec, size);
}

int session__attach(struct session *s)
{
	struct tracer_needs needs;
	size_t i;
	int err;

	if (s->attached)
		return 0;
	lp_clearerr();
	/* probes attach to the files read; a path that names another one now is news */
	err = probe_set__check_replaced(&s->ps, true);
	if (err < 0)
		return err;
	/* a probe that only feeds aggregations sends no events */
	for (i = 0; i < s->ps.nprobes; i++) {
		err = probe__update_plans(&s->ps, s->ps.probes[i]);
		if (err)
			return err;
	}
	/*
	 * The probe sites are decoded: unload the disassembler before the ring
	 * buffer is mapped, so their resident sizes do not add up (probes
	 * created later load it again).
	 */
	capstone__release();
	/* what the probes need of the BPF object: call pairing, scopes, stacks, TLS */
	probe_set__needs(&s->ps, &needs);
	tracer__set_needs(s->tracer, &needs);
	pr_debug("luprobe: %.2f ms: loading BPF\n", (now_ns() - s->started_ns) / 1e6);
	err = tracer__load(s->tracer, on_record, s);
	if (err)
		return err;
	pr_debug("luprobe: %.2f ms: BPF loaded\n", (now_ns() - s->started_ns) / 1e6);
	for (i = 0; i < s->ps.nprobes; i++) {
		if (lp_signalled) {
			lp_seterr("interrupted");
			return -EINTR;
		}
		err = probe__attach(&s->ps, s->ps.probes[i]);
		if (err)
			return err;
	}
	s->attached = true;
	for (i = 0; i < (size_t)s->ntargets; i++)
		watch_target(s, &s->targets[i]);
	tracer__warm_release(s->tracer);
	pr_info("luprobe: %zu probe%s, %zu uprobe%s attached\n", s->ps.nprobes,
		s->ps.nprobes == 1 ? "" : "s", tracer__nlinks(s->tracer),
		tracer__nlinks(s->tracer) == 1 ? "" : "s");
	return 0;
}

int session__drop_privileges(struct session *s)
{
	const struct target_user *u = &s->env->as;
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct caps[2];
	uint64_t st[LP_NSTATS];
	uid_t r, e, sv;
	int err;

	if (!s->env->user || s->dropped)
		return 0;
	/* capabilities are per thread: no other thread may keep them */
	tracer__settle(s->tracer);
	err = target_user__become(u);
	if (err) {
		lp_seterr("--user %s: cannot switch to uid %d: %s (it needs root, or CAP_SETUID "
			  "and CAP_SETGID; see luprobe --check)",
			  s->env->user, (int)u->uid, strerror(-err));
		return -EPERM;
	}
	/* nothing the script executes can gain privileges (setuid files, file capabilities) */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* and there is no way back */
	if (setuid(0) == 0 || getresuid(&r, &e, &sv) < 0 || r != u->uid || e != u->uid ||
	    sv != u->uid || syscall(SYS_capget, &hdr, caps) < 0 || caps[0].permitted ||
	    caps[1].permitted || caps[0].effective || caps[1].effective) {
		lp_seterr("--user %s: the privileges could not be dropped for good", s->env->user);
		return -EPERM;
	}
	/*
	 * Reading the maps through descriptors luprobe holds: Linux 5.19+ allows
	 * it whatever kernel.unprivileged_bpf_disabled says, older kernels not.
	 */
	if (tracer__stats(s->tracer, st) == -EPERM) {
		lp_seterr("--user %s: this kernel refuses BPF map access to unprivileged "
			  "processes; --user needs Linux 5.19 or later, or "
			  "kernel.unprivileged_bpf_disabled=0",
			  s->env->user);
		return -EPERM;
	}
	s->dropped = true;
	pr_info("luprobe: now running as %s (uid %d, gid %d)\n", s->env->user, (int)u->uid,
		(int)u->gid);
	return 0;
}

int session__load_script(struct session *s)
{
	return lua_api__load_script(s->lua, s->env->code);
}

int session__run_script(struct session *s)
{
	return lua_api__run_script(s->lua);
}

/* When a timer set at now with delay falls due (never: UINT64_MAX). */
static uint64_t timer_due(uint64_t now, uint64_t delay)
{
	return delay >= TIMER_NEVER ? UINT64_MAX : now + delay;
}

/* Timers: returns the id, or -errno. */
static int add_timer(struct session *s, uint64_t interval_ns, bool repeat, int fn_ref)
{
	struct timer *t;

	if (s->ntimers == s->timers_cap) {
		int cap = s->timers_cap ? s->timers_cap * 2 : 8;
		struct timer *n = realloc(s->timers, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->timers = n;
		s->timers_cap = cap;
	}
	t = &s->timers[s->ntimers++];
	t->due = timer_due(now_ns(), interval_ns);
	t->delay = interval_ns;
	t->interval = repeat ? interval_ns : 0;
	t->fn_ref = fn_ref;
	t->id = ++s->next_timer_id;
	t->cancelled = false;
	return t->id;
}

static void cancel_timer(struct session *s, int id)
{
	int i;

	for (i = 0; i < s->ntimers; i++)
		if (s->timers[i].id == id)
			s->timers[i].cancelled = true;
}

/* Run due timers; returns ns until the next one (UINT64_MAX if none). */
static uint64_t run_timers(struct session *s)
{
	uint64_t now = now_ns(), next = UINT64_MAX;
	int i, j;

	for (i = 0; i < s->ntimers && !s->stop; i++) {
		struct timer *t = &s->timers[i];

		if (t->cancelled || t->due > now)
			continue;
		if (t->interval) {
			/* keep the cadence, but never queue up missed ticks */
			t->due += t->interval;
			if (t->due <= now)
				t->due = now + t->interval;
		} else {
			t->cancelled = true;
		}
		lua_api__call_ref(s->lua, t->fn_ref, "timer");
		t = &s->timers[i]; /* the callback may have added timers */
		if (t->cancelled)
			continue;
	}
	for (i = 0, j = 0; i < s->ntimers; i++) {
		if (s->timers[i].cancelled) {
			lua_api__unref(s->lua, s->timers[i].fn_ref);
			continue;
		}
		s->timers[j++] = s->timers[i];
	}
	s->ntimers = j;
	now = now_ns();
	for (i = 0; i < s->ntimers; i++)
		if (s->timers[i].due < next)
			next = s->timers[i].due;
	return next == UINT64_MAX ? next : (next > now ? next - now : 0);
}

static bool all_targets_exited(struct session *s)
{
	int i;

	if (!s->ntargets)
		return false;
	for (i = 0; i < s->ntargets; i++)
		if (!target__poll_exit(&s->targets[i]))
			return false;
	return true;
}

/* How often the paths of target = are compared with the files read, while tracing. */
#define REPLACED_CHECK_NS 1000000000ull

/*
 * A deploy may rename a new build over a target = path while tracing: say
 * so, and attach the probes that follow the path (replaced = "resolve") to
 * the new file too (their points in the file read stay).
 */
static void check_replaced(struct session *s)
{
	int err = probe_set__check_replaced(&s->ps, !s->dropped);

	if (err > 0)
		err = attach_all(s);
	if (err) {
		fprintf(stderr, "luprobe: %s; the new file is not traced\n",
			*lp_lasterr() ? lp_lasterr() : strerror(-err));
		lp_clearerr();
	}
}

/* The epoll tags of the output and the metrics (targets are 1..MAX_TARGETS, the ring 0). */
#define OUTPUT_EV  (MAX_TARGETS + 1)
#define METRICS_EV (MAX_TARGETS + 2)
#define EXPORT_EV  (MAX_TARGETS + 3)

int session__loop(struct session *s)
{
	struct epoll_event evs[MAX_TARGETS + 4], ev;
	uint64_t deadline = 0, wait_ns, next_timer, now;
	/* a batch of events takes at most a drain interval: timers, signals, --duration */
	uint64_t batch_ns = (uint64_t)s->env->drain_ms * 1000000ull;
	int epfd, n, i, fd;
	bool exited = false, more = false, scrape = false;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		lp_seterr("epoll: %s", strerror(errno));
		return -errno;
	}
	fd = tracer__ringbuf_fd(s->tracer);
	if (fd >= 0) {
		ev.events = EPOLLIN;
		ev.data.u32 = 0;
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	}
	s->nwatched = 0;
	/*
	 * A pipe whose reader has gone (luprobe ... | head -1) reports EPOLLERR:
	 * the run ends at once, not at the next write. A file cannot be polled.
	 */
	ev.events = 0;
	ev.data.u32 = OUTPUT_EV;
	epoll_ctl(epfd, EPOLL_CTL_ADD, output__fd(), &ev);
	/* scrapes are answered here, between batches: see prometheus.h */
	if (s->prom) {
		ev.events = EPOLLIN;
		ev.data.u32 = METRICS_EV;
		epoll_ctl(epfd, EPOLL_CTL_ADD, prometheus__fd(s->prom), &ev);
	}
	/* the collector's answers too: see export.h */
	if (s->exp) {
		ev.events = EPOLLIN;
		ev.data.u32 = EXPORT_EV;
		epoll_ctl(epfd, EPOLL_CTL_ADD, export__fd(s->exp), &ev);
		s->export_due = now_ns();
	}
	if (s->env->duration_s > 0)
		deadline = s->started_ns + (uint64_t)(s->env->duration_s * 1e9);
	/* timers the main chunk set count from now, when tracing starts */
	now = now_ns();
	for (i = 0; i < s->ntimers; i++)
		s->timers[i].due = timer_due(now, s->timers[i].delay);
	s->looping = true;

	while (!s->stop && !lp_signalled) {
		/* targets the script added with attach(pid) */
		for (; s->nwatched < s->ntargets; s->nwatched++) {
			if (s->targets[s->nwatched].pidfd < 0)
				continue;
			ev.events = EPOLLIN;
			ev.data.u32 = s->nwatched + 1;
			epoll_ctl(epfd, EPOLL_CTL_ADD, s->targets[s->nwatched].pidfd, &ev);
		}
		next_timer = run_timers(s);
		if (s->stop)
			break;
		/* records left by a batch cut short are served at once */
		wait_ns = more ? 0 : (uint64_t)s->env->drain_ms * 1000000ull;
		if (next_timer < wait_ns)
			wait_ns = next_timer;
		now = now_ns();
		if (deadline) {
			if (now >= deadline)
				break;
			if (deadline - now < wait_ns)
				wait_ns = deadline - now;
		}
		if (s->exp && s->export_due < now + wait_ns)
			wait_ns = s->export_due > now ? s->export_due - now : 0;
		n = epoll_wait(epfd, evs, MAX_TARGETS + 4, (int)((wait_ns + 999999) / 1000000));
		if (n < 0 && errno != EINTR) {
			lp_seterr("epoll_wait: %s", strerror(errno));
			break;
		}
		if (tracer__drain(s->tracer, batch_ns, &more) == 0 && n == 0 && !more) {
			/*
			 * A whole interval without a record: ask for a wakeup on the
			 * next one, then look once more for one that raced the flag.
			 */
			tracer__set_idle(s->tracer);
			tracer__drain(s->tracer, batch_ns, &more);
		}
		if (now >= s->replaced_ns) {
			s->replaced_ns = now + REPLACED_CHECK_NS;
			check_replaced(s);
		}
		/* one write per batch, not per event, and never later than a batch */
		output__flush();
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == OUTPUT_EV)
				output__closed();
			else if (evs[i].data.u32 == METRICS_EV)
				scrape = true;
			else if (evs[i].data.u32 == EXPORT_EV)
				continue;
			else if (evs[i].data.u32)
				exited = true;
		}
		/* every turn (cheap): a connection that stalls is closed in time */
		if (s->prom) {
			prometheus__serve(s->prom, now_ns(), scrape);
			scrape = false;
		}
		/* batches, retries, the POST in progress: never waits */
		if (s->exp)
			s->export_due = export__poll(s->exp, now_ns());
		/* the reader has gone (a clean stop), or an error: see session__finish */
		if (output__error()) {
			s->stop = true;
			break;
		}
		/*
		 * The targets' events first: a launched command stays a zombie,
		 * its /proc entry readable by the callbacks, until they are in.
		 */
		if (exited)
			unwatch_exited(s, more);
		if ((exited || s->ntargets) && !more && all_targets_exited(s))
			break;
		exited = false;
	}
	close(epfd);
	return 0;
}

/* The most the last spans may take to send when the run ends. */
#define EXPORT_FLUSH_NS 2000000000ull

/* "luprobe: otlp: 120 spans sent to ..., 3 dropped (queue full), ..." */
static void report_export(struct session *s)
{
	struct export_stats es;

	export__stats(s->exp, &es);
	if (s->env->quiet && !es.dropped && !es.failed)
		return;
	fprintf(stderr, "luprobe: otlp: %llu span%s sent to http://%s",
		(unsigned long long)es.sent, es.sent == 1 ? "" : "s", export__address(s->exp));
	if (es.dropped)
		fprintf(stderr, ", %llu dropped (the export queue was full)",
			(unsigned long long)es.dropped);
	if (es.failed)
		fprintf(stderr, ", %llu not sent (%s)", (unsigned long long)es.failed,
			*export__why(s->exp) ? export__why(s->exp) : "failed");
	fputc('\n', stderr);
}

/* The most the events left when the run ends may take to deliver. */
#define FINAL_DRAIN_NS 1000000000ull

/*
 * Deliver what the ring holds when the run has ended (the probes detached),
 * in batches, for at most FINAL_DRAIN_NS: a script slower than the events
 * must not keep luprobe running. A signal that comes meanwhile ends it at
 * once. What is left is counted as undelivered. Returns true when the time
 * ran out.
 */
static bool drain_rest(struct session *s)
{
	uint64_t until = now_ns() + FINAL_DRAIN_NS;
	bool more = true, signalled = lp_signalled;

	while (more && (signalled || !lp_signalled)) {
		if (now_ns() >= until)
			return true;
		tracer__drain(s->tracer, (uint64_t)s->env->drain_ms * 1000000ull, &more);
	}
	return false;
}

int session__finish(struct session *s)
{
	uint64_t st[LP_NSTATS], untraced, batches, cut, unwritten;
	bool launched_exited = false, late, write_error;
	struct lua_counts *counts = lua_api__counts(s->lua);
	size_t inflight;
	int i, code = 0;

	/*
	 * Detach before anything else can go wrong: from here on no probe
	 * fires, the ring holds all there will be, and on_exit sees the final
	 * counts. The maps stay until the Lua state is closed.
	 */
	tracer__detach_all(s->tracer);
	late = drain_rest(s);
	counts->undelivered += tracer__undelivered(s->tracer);
	s->ended = true;
	if (!(lp_signalled && lua_api__in_lua(s->lua)))
		lua_api__run_exit(s->lua);
	/* the spans on_exit made too (a second Ctrl-C kills at once) */
	if (s->exp)
		export__finish(s->exp, EXPORT_FLUSH_NS);
	/* a reader that has gone is a clean stop; any other write error, an error */
	write_error = output__report();
	unwritten = output__lost_events();
	tracer__stats(s->tracer, st);
	inflight = tracer__inflight(s->tracer);

	for (i = 0; i < s->ntargets; i++) {
		struct target *t = &s->targets[i];

		if (!t->launched && t->exited && !lp_signalled && !s->stop)
			fprintf(stderr, "luprobe: process %d (%s) exited\n", (int)t->pid, t->path);
		if (t->launched && target__poll_exit(t))
			launched_exited = true;
	}
	if (!s->env->quiet) {
		fprintf(stderr, "luprobe: %llu event%s, %llu lost",
			(unsigned long long)counts->delivered, counts->delivered == 1 ? "" : "s",
			(unsigned long long)st[LP_STAT_LOST]);
		if (counts->errors)
			fprintf(stderr, ", %llu error%s", (unsigned long long)counts->errors,
				counts->errors == 1 ? "" : "s");
		if (st[LP_STAT_CALLS_FULL] || st[LP_STAT_NESTED])
			fprintf(stderr, ", %llu calls not paired",
				(unsigned long long)(st[LP_STAT_CALLS_FULL] + st[LP_STAT_NESTED]));
		if (inflight)
			fprintf(stderr,
				", %zu call%s without a return (panic, Goexit or still running)",
				inflight, inflight == 1 ? "" : "s");
		for (i = 0, untraced = 0; i < s->ntargets; i++)
			untraced += s->targets[i].untraced_ns;
		if (untraced)
			fprintf(stderr,
				", %.1f ms untraced after execs (calls then are not counted)",
				untraced / 1e6);
		if (st[LP_STAT_EXEC_LOST])
			fprintf(stderr,
				", %llu exec%s not followed (ring buffer full; later calls "
				"of %s not traced)",
				(unsigned long long)st[LP_STAT_EXEC_LOST],
				st[LP_STAT_EXEC_LOST] == 1 ? "" : "s",
				st[LP_STAT_EXEC_LOST] == 1 ? "that process" : "those processes");
		if (st[LP_STAT_SCOPE_FULL])
			fprintf(stderr, ", %llu scope%s not tracked (more than %d at once)",
				(unsigned long long)st[LP_STAT_SCOPE_FULL],
				st[LP_STAT_SCOPE_FULL] == 1 ? "" : "s", 16384);
		if (st[LP_STAT_SPAWN_FULL])
			fprintf(stderr,
				", %llu spawned goroutine%s not followed (more than %u goroutines "
				"in scopes at once)",
				(unsigned long long)st[LP_STAT_SPAWN_FULL],
				st[LP_STAT_SPAWN_FULL] == 1 ? "" : "s", 16384);
		if (st[LP_STAT_STACK_ERR])
			fprintf(stderr, ", %llu stack%s not captured",
				(unsigned long long)st[LP_STAT_STACK_ERR],
				st[LP_STAT_STACK_ERR] == 1 ? "" : "s");
		if (st[LP_STAT_UNMATCHED])
			fprintf(stderr, ", %llu return%s without an entry",
				(unsigned long long)st[LP_STAT_UNMATCHED],
				st[LP_STAT_UNMATCHED] == 1 ? "" : "s");
		if (st[LP_STAT_AGG_FULL])
			fprintf(stderr, ", %llu aggregation update%s dropped",
				(unsigned long long)st[LP_STAT_AGG_FULL],
				st[LP_STAT_AGG_FULL] == 1 ? "" : "s");
		if (counts->undelivered)
			fprintf(stderr, ", %llu undelivered",
				(unsigned long long)counts->undelivered);
		if (unwritten)
			fprintf(stderr, ", %llu not written", (unsigned long long)unwritten);
		fputc('\n', stderr);
	}
	if (st[LP_STAT_LOST])
		fprintf(stderr,
			"luprobe: %llu event%s lost because the ring buffer was full; "
			"raise --ringbuf or do less work per event\n",
			(unsigned long long)st[LP_STAT_LOST],
			st[LP_STAT_LOST] == 1 ? " was" : "s were");
	/* the aggregations printed above lack these calls: say so, and how to make room */
	if (st[LP_STAT_AGG_FULL])
		fprintf(stderr,
			"luprobe: %llu aggregation update%s dropped because an in-kernel "
			"aggregation map was full (%u keys); raise --agg-keys or "
			"luprobe.options{ agg_keys = N }\n",
			(unsigned long long)st[LP_STAT_AGG_FULL],
			st[LP_STAT_AGG_FULL] == 1 ? " was" : "s were", tracer__agg_keys(s->tracer));
	if (st[LP_STAT_STACK_ERR])
		fprintf(stderr,
			"luprobe: %llu stack%s not captured (counted under \"[stack not "
			"captured]\" in aggregations by stack): the stack map was full "
			"(--max-stacks %u) or the frame-pointer walk failed\n",
			(unsigned long long)st[LP_STAT_STACK_ERR],
			st[LP_STAT_STACK_ERR] == 1 ? " was" : "s were", tracer__max_stacks(s->tracer));
	if (counts->undelivered && late)
		fprintf(stderr,
			"luprobe: %llu event%s still in the ring buffer a second after the run "
			"ended, not delivered: the script handles events slower than they come\n",
			(unsigned long long)counts->undelivered,
			counts->undelivered == 1 ? " was" : "s were");
	if (s->exp)
		report_export(s);
	tracer__batches(s->tracer, &batches, &cut);
	if (cut)
		pr_info("luprobe: %llu of %llu batches of events were cut after %u ms so that "
			"timers, signals and --duration kept their time: the script handled "
			"events slower than they came\n",
			(unsigned long long)cut, (unsigned long long)batches, s->env->drain_ms);

	if (s->exit_code_set)
		code = s->exit_code;
	else if (launched_exited)
		code = target__exit_code(&s->targets[0]);
	else if (!lp_signalled && !s->stop && s->ntargets && all_targets_exited(s))
		code = 1; /* the processes we were told to trace went away */
	if (write_error && !code)
		code = 1;
	for (i = 0; i < s->ntargets; i++)
		target__terminate(&s->targets[i], 1000);
	return code;
}

void session__free(struct session *s)
{
	int i;

	/* an error ended the run early: no probe may outlive what follows */
	if (s->tracer)
		tracer__detach_all(s->tracer);
	s->ended = true;
	for (i = 0; i < s->ntargets; i++) {
		target__terminate(&s->targets[i], 1000);
		target__close(&s->targets[i]);
	}
	prometheus__free(s->prom);
	s->prom = NULL;
	lua_api__close(&s->lua);
	export__free(s->exp);
	s->exp = NULL;
	probe_set__free(&s->ps);
	tracer__free(s->tracer);
	free(s->timers);
	signal_session = NULL;
}
