// SPDX-License-Identifier: BSD-2-Clause
/*
 * luprobe: trace Go functions with eBPF uprobes, driven by a Lua script.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "check.h"
#include "listing.h"
#include "log.h"
#include "otlp_http.h"
#include "output.h"
#include "probe.h"
#include "session.h"
#include "util.h"
#include "strbuf.h"

static const char usage[] =
	"Usage: luprobe [OPTIONS] SCRIPT.lua [-- COMMAND [ARGS...]]\n"
	"       luprobe [OPTIONS] -e CODE [-- COMMAND [ARGS...]]\n"
	"       luprobe -l BINARY [GLOB]     list the functions of a Go binary\n"
	"       luprobe -l -p PID [GLOB]     the same for the binary a process runs\n"
	"       luprobe --info BINARY|-p PID what luprobe knows about a Go binary\n"
	"       luprobe --describe SCRIPT    what a script does and the -a arguments it takes\n"
	"       luprobe --check              can this machine trace? each condition, ok or\n"
	"                                    what to do\n"
	"\n"
	"Trace functions of Go programs with eBPF uprobes; a Lua script says what to\n"
	"capture and what to do with each call.\n"
	"\n"
	"Targets:\n"
	"  -p, --pid PID        trace a running process (repeatable)\n"
	"  -- COMMAND ARGS      start COMMAND with the probes attached; luprobe exits\n"
	"                       with its exit status\n"
	"  (or target = \"path\" in a probe: every process running that binary)\n"
	"\n"
	"Options:\n"
	"  -e, --eval CODE      run CODE instead of a script file\n"
	"  -I DIR               look for modules (require) in DIR too\n"
	"  -a, --arg KEY=VALUE  pass an argument to the script (luprobe.args.KEY)\n"
	"      --json           print events as JSON lines\n"
	"  -o, --output FILE    write luprobe's output (events, the script's prints) to FILE;\n"
	"                       a command started with -- keeps luprobe's stdout\n"
	"      --duration SECS  stop after SECS seconds\n"
	"      --keep-going     count errors in callbacks instead of stopping\n"
	"      --budget N       instructions one callback may run (default 100000000)\n"
	"      --memory SIZE    memory the script may hold, e.g. 256M or 2G (default\n"
	"                       512M, or a quarter of the RAM when that is less)\n"
	"      --ringbuf BYTES  ring buffer size (default 8388608)\n"
	"      --max-calls N    calls in flight kept for pairing with their return\n"
	"      --debug-file PATH  DWARF from PATH, an unstripped build of the traced program\n"
	"                       (else found by build id under $LUPROBE_DEBUG_DIR or\n"
	"                       /usr/lib/debug/.build-id)\n"
	"      --agg-keys N     keys each in-kernel aggregation map holds (default 16384)\n"
	"      --max-stacks N   distinct stacks kept for stack = true and keys by stack\n"
	"                       (default 4096)\n"
	"      --map-limit BYTES  kernel memory one BPF map may take (default 1073741824);\n"
	"                       a setting that needs more is refused\n"
	"      --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics:\n"
	"                       the script's aggregations and luprobe's own counters\n"
	"                       (PORT alone: every address)\n"
	"      --otlp URL       send every call as an OpenTelemetry span to the collector\n"
	"                       at URL over OTLP/HTTP (http://HOST:PORT, path /v1/traces)\n"
	"      --otlp-json      with --otlp: the JSON encoding instead of protobuf\n"
	"      --user NAME      once every probe is attached, drop to user NAME for good:\n"
	"                       callbacks, timers, on_exit and the command run as NAME;\n"
	"                       no probe can be added after\n"
	"  -q, --quiet          no summary line at exit\n"
	"  -v                   verbose (-vv: debug, with libbpf's messages)\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n"
	"\n"
	"Examples:\n"
	"  luprobe scripts/computee.lua -p $(pidof app)\n"
	"  luprobe -e 'probe{ func = \"main.computeE\" }' -- ./app\n"
	"  luprobe -e 'probe{ func = \"main.*\", args = false }' -p 1234\n"
	"  luprobe -l ./app 'main.*'\n"
	"\n"
	"Tracing needs root, or exactly the capabilities CAP_BPF and CAP_PERFMON; also\n"
	"CAP_SYS_PTRACE to trace another user's process, CAP_DAC_READ_SEARCH for a\n"
	"binary the user cannot read, CAP_SETUID and CAP_SETGID for --user;\n"
	"luprobe --check says what this machine and user have.\n"
	"Scripts and modules load as Lua source text only, never as bytecode, and only\n"
	"when no user but root and you can change them or a directory above them.\n"
	"Ctrl-C while tracing runs the on_exit handlers and exits 0; before tracing has\n"
	"started (the script's main chunk, attaching the probes) it exits 130 and the\n"
	"command is never started. A second Ctrl-C kills luprobe and the command at\n"
	"once.\n";

enum {
	OPT_JSON = 256,
	OPT_INFO,
	OPT_VERSION,
	OPT_DURATION,
	OPT_KEEP_GOING,
	OPT_BUDGET,
	OPT_RINGBUF,
	OPT_DRAIN,
	OPT_MAX_CALLS,
	OPT_DEBUG_FILE,
	OPT_DESCRIBE,
	OPT_USER,
	OPT_AGG_KEYS,
	OPT_MAX_STACKS,
	OPT_MAP_LIMIT,
	OPT_MEMORY,
	OPT_METRICS,
	OPT_OTLP,
	OPT_OTLP_JSON,
	OPT_CHECK,
};

static const struct option long_opts[] = {
	{"pid", required_argument, NULL, 'p'},
	{"eval", required_argument, NULL, 'e'},
	{"arg", required_argument, NULL, 'a'},
	{"list", optional_argument, NULL, 'l'},
	{"json", no_argument, NULL, OPT_JSON},
	{"info", optional_argument, NULL, OPT_INFO},
	{"check", no_argument, NULL, OPT_CHECK},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"keep-going", no_argument, NULL, OPT_KEEP_GOING},
	{"budget", required_argument, NULL, OPT_BUDGET},
	{"ringbuf", required_argument, NULL, OPT_RINGBUF},
	{"drain-ms", required_argument, NULL, OPT_DRAIN},
	{"max-calls", required_argument, NULL, OPT_MAX_CALLS},
	{"debug-file", required_argument, NULL, OPT_DEBUG_FILE},
	{"agg-keys", required_argument, NULL, OPT_AGG_KEYS},
	{"max-stacks", required_argument, NULL, OPT_MAX_STACKS},
	{"map-limit", required_argument, NULL, OPT_MAP_LIMIT},
	{"describe", required_argument, NULL, OPT_DESCRIBE},
	{"output", required_argument, NULL, 'o'},
	{"user", required_argument, NULL, OPT_USER},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"metrics", required_argument, NULL, OPT_METRICS},
	{"otlp", required_argument, NULL, OPT_OTLP},
	{"otlp-json", no_argument, NULL, OPT_OTLP_JSON},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static int fail(const char *msg)
{
	fprintf(stderr, "luprobe: %s\n", msg);
	return 1;
}

/*
 * A script describes itself in its leading comments:
 *   -- @description One line saying what it shows
 *   -- @arg func  the Go function to trace (required)
 */
static int describe_script(const char *path)
{
	char line[1024];
	int described = 0, args = 0;
	/* O_NONBLOCK: a FIFO would wait for a writer (fstat refuses it) */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "luprobe: %s: %s\n", path,
			errno == ENOENT ? "no such file" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	/* /dev/zero never ends */
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "luprobe: %s: not a regular file (%s)\n", path,
			lp_filekind(st.st_mode));
		close(fd);
		return 1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		fprintf(stderr, "luprobe: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strncmp(p, "--", 2) != 0) {
			if (*p && *p != '#')
				break; /* the header ends at the first line of code */
			continue;
		}
		p += 2;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "@description", 12) == 0) {
			p += 12;
			while (*p == ' ' || *p == '\t')
				p++;
			printf("%s: %s\n", path, p);
			described = 1;
		} else if (strncmp(p, "@arg", 4) == 0) {
			char name[64] = "";
			int n = 0;

			p += 4;
			if (sscanf(p, " %63s %n", name, &n) < 1)
				continue;
			if (!args++)
				printf("arguments (-a name=value):\n");
			printf("  %-12s %s\n", name, p + n);
		}
	}
	fclose(f);
	if (!described)
		printf("%s: no description (add a comment \"-- @description ...\" at the top)\n",
		       path);
	return 0;
}

/* "256M", "2G", "1048576": bytes, or -EINVAL */
static int parse_size(const char *s, size_t *out)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	}
	if (shift)
		end++;
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || n > (~0ull >> shift))
		return -EINVAL;
	*out = n << shift;
	return 0;
}

/*
 * The script's memory by default: enough for millions of kept values, and
 * never more than a quarter of the machine, so that a script that keeps
 * every event meets its limit long before the OOM killer picks a process.
 */
static size_t default_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	size_t quarter = pages > 0 && page > 0 ? (size_t)pages * page / 4 : 0;

	return quarter && quarter < (512ul << 20) ? quarter : 512ul << 20;
}

/* --user NAME: the uid, gid and groups to switch to once the probes are attached. */
static int lookup_user(const char *name, struct env *env)
{
	struct passwd *pw;
	int n = 0;

	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		/* getpwnam(3): any of these, or none, means the name is unknown */
		bool unknown = errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF ||
			       errno == EPERM;

		fprintf(stderr, "luprobe: --user %s: %s\n", name,
			unknown ? "no such user" : strerror(errno));
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr,
			"luprobe: --user %s: that is root; give an unprivileged user for the "
			"script to run as\n",
			name);
		return -EINVAL;
	}
	env->user = name;
	env->as.uid = pw->pw_uid;
	env->as.gid = pw->pw_gid;
	getgrouplist(name, pw->pw_gid, NULL, &n);
	env->as.groups = calloc(n + 1, sizeof(gid_t));
	if (!env->as.groups || getgrouplist(name, pw->pw_gid, env->as.groups, &n) < 0) {
		fprintf(stderr, "luprobe: --user %s: cannot list its groups\n", name);
		return -ENOMEM;
	}
	env->as.ngroups = n;
	return 0;
}

/*
 * Root, or CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN covers both), and for --user
 * CAP_SETUID and CAP_SETGID. The kernel needs both of the first two to load
 * a uprobe program; memory is charged to the cgroup, not RLIMIT_MEMLOCK.
 */
static int check_privileges(const struct env *env)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	uint64_t eff;

	if (geteuid() == 0)
		return 0;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0; /* let the kernel decide */
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	if (!(eff & (1ULL << CAP_SYS_ADMIN)) &&
	    (!(eff & (1ULL << CAP_BPF)) || !(eff & (1ULL << CAP_PERFMON)))) {
		fprintf(stderr,
			"luprobe: tracing needs root or the CAP_BPF and CAP_PERFMON capabilities "
			"(running as uid %d without them); run it with sudo, or see luprobe "
			"--check\n",
			(int)geteuid());
		return -EPERM;
	}
	if (env->user && (~eff & (1ULL << CAP_SETUID | 1ULL << CAP_SETGID))) {
		fprintf(stderr,
			"luprobe: --user %s needs root or the CAP_SETUID and CAP_SETGID "
			"capabilities (running as uid %d without them); see luprobe --check\n",
			env->user, (int)geteuid());
		return -EPERM;
	}
	return 0;
}

/* What the command line asks for besides a run. */
struct cmdline {
	bool list;	  /* -l [BINARY] */
	bool info;	  /* --info [BINARY] */
	const char *path; /* -lBINARY, --info=BINARY */
};

/* One option into env or cl: -1 to go on, else the exit code luprobe ends with now. */
static int parse_option(int opt, struct env *env, struct cmdline *cl)
{
	char *end;

	switch (opt) {
	case 'p': {
		long pid = strtol(optarg, &end, 10);

		if (*end || pid <= 0)
			return fail("-p needs a process id, e.g. -p 1234");
		if (env->npids == MAX_TARGETS)
			return fail("too many -p");
		env->pids[env->npids++] = pid;
		break;
	}
	case 'e':
		env->code = optarg;
		break;
	case 'a':
		if (env->nscript_args == MAX_SCRIPT_ARGS)
			return fail("too many -a");
		env->script_args[env->nscript_args++] = optarg;
		break;
	case 'I':
		if (env->nincludes == MAX_INCLUDES)
			return fail("too many -I");
		env->includes[env->nincludes++] = optarg;
		break;
	case 'l':
		cl->list = true;
		cl->path = optarg;
		break;
	case 'q':
		env->quiet = true;
		break;
	case 'o':
		env->output = optarg;
		break;
	case 'v':
		lp_verbosity++;
		break;
	case 'h':
		fputs(usage, stdout);
		return 0;
	case OPT_VERSION:
		printf("luprobe %s\n", LUPROBE_VERSION);
		return 0;
	case OPT_JSON:
		env->json = true;
		break;
	case OPT_INFO:
		cl->info = true;
		cl->path = optarg;
		break;
	case OPT_CHECK: {
		int code = check__run();

		return output__report() ? 1 : code;
	}
	case OPT_DURATION:
		env->duration_s = strtod(optarg, &end);
		if (*end || env->duration_s <= 0)
			return fail("--duration needs a positive number of seconds");
		break;
	case OPT_KEEP_GOING:
		env->keep_going = true;
		break;
	case OPT_BUDGET:
		env->lua_budget = strtoull(optarg, &end, 10);
		if (*end || env->lua_budget > 2000000000ull)
			return fail("--budget needs an instruction count (0 for no limit)");
		break;
	case OPT_RINGBUF:
		env->topts.ringbuf_bytes = strtoull(optarg, &end, 0);
		if (*end || env->topts.ringbuf_bytes < 4096 ||
		    env->topts.ringbuf_bytes > (1u << 30))
			return fail("--ringbuf needs a size from 4096 to 1073741824 bytes");
		break;
	case OPT_DESCRIBE: {
		int code = describe_script(optarg);

		return output__report() ? 1 : code;
	}
	case OPT_MEMORY:
		if (parse_size(optarg, &env->memory) || env->memory < (1u << 20) ||
		    env->memory > (1ull << 40))
			return fail("--memory needs a size from 1M to 1T, e.g. 256M or 2G");
		break;
	case OPT_USER:
		if (lookup_user(optarg, env))
			return 1;
		break;
	case OPT_DEBUG_FILE:
		env->debug_file = optarg;
		break;
	case OPT_METRICS:
		env->metrics = optarg;
		break;
	case OPT_OTLP: {
		struct otlp_endpoint ep;

		if (otlp_endpoint__parse(optarg, &ep))
			return fail(lp_lasterr());
		env->otlp = optarg;
		break;
	}
	case OPT_OTLP_JSON:
		env->otlp_json = true;
		break;
	case OPT_MAX_CALLS:
		env->topts.max_calls = strtoul(optarg, &end, 10);
		if (*end || env->topts.max_calls < 64 || env->topts.max_calls > (1u << 22))
			return fail("--max-calls needs 64 to 4194304");
		break;
	case OPT_AGG_KEYS:
		env->topts.agg_keys = strtoul(optarg, &end, 10);
		if (*end || !env->topts.agg_keys || env->topts.agg_keys > (1u << 30))
			return fail("--agg-keys needs 1 to 1073741824");
		break;
	case OPT_MAX_STACKS:
		env->topts.max_stacks = strtoul(optarg, &end, 10);
		if (*end || !env->topts.max_stacks || env->topts.max_stacks > (1u << 20))
			return fail("--max-stacks needs 1 to 1048576");
		break;
	case OPT_MAP_LIMIT:
		env->topts.map_limit = strtoull(optarg, &end, 0);
		if (*end || env->topts.map_limit < (1u << 20) ||
		    env->topts.map_limit > (1ULL << 40))
			return fail(
				"--map-limit needs a size from 1048576 to 1099511627776 "
				"bytes");
		break;
	case OPT_DRAIN:
		env->drain_ms = strtoul(optarg, &end, 10);
		if (*end || !env->drain_ms || env->drain_ms > 1000)
			return fail("--drain-ms needs 1 to 1000");
		break;
	default:
		fputs("Try 'luprobe --help'.\n", stderr);
		return 2;
	}
	return -1;
}

/*
 * -l and --info: of BINARY (the option's argument or the first operand) or
 * of the binary process -p PID runs; -l takes a GLOB operand after it.
 */
static int inspect(const struct cmdline *cl, const struct env *env, char **ops, int nops)
{
	const char *opt = cl->list ? "-l" : "--info";
	const char *path = cl->path, *shown = NULL;
	char exe[64], name[PATH_MAX + 64];
	int code;

	if (env->npids > 1 || (env->npids && path))
		return fail(cl->list ? "-l takes one binary: a path or -p PID"
				     : "--info takes one binary: a path or -p PID");
	if (env->npids) {
		if (listing__pid_exe(env->pids[0], exe, sizeof(exe), name, sizeof(name)))
			return fail(lp_lasterr());
		path = exe;
		shown = name;
	} else if (!path) {
		if (!nops) {
			fprintf(stderr, "luprobe: %s needs a Go binary or -p PID, e.g. %s ./app\n",
				opt, opt);
			return 2;
		}
		path = *ops++;
		nops--;
	}
	if (nops > (cl->list ? 1 : 0))
		return fail(cl->list ? "-l takes a binary and at most one GLOB"
				     : "--info takes one binary and nothing else");
	if (cl->list)
		code = listing__functions(path, shown, nops ? ops[0] : NULL);
	else
		code = listing__info(path, shown);
	return output__report() ? 1 : code;
}

/* A run: the session from the script's main chunk to its summary; the exit code. */
static int run(struct env *env)
{
	static struct session s;
	int code, i;

	code = session__init(&s, env);
	pr_debug("luprobe: %.2f ms: initialized\n", (now_ns() - s.started_ns) / 1e6);
	if (!code)
		code = session__load_script(&s);
	if (!code)
		code = session__open_targets(&s);
	pr_debug("luprobe: %.2f ms: script loaded, targets open\n",
		 (now_ns() - s.started_ns) / 1e6);
	/* after the fork: the command keeps the original stdout */
	if (!code && env->output)
		code = output__redirect(env->output);
	if (!code && !lp_signalled)
		code = session__run_script(&s);
	pr_debug("luprobe: %.2f ms: main chunk run\n", (now_ns() - s.started_ns) / 1e6);
	if (!code && !s.stop && !lp_signalled)
		code = session__attach(&s);
	pr_debug("luprobe: %.2f ms: attached\n", (now_ns() - s.started_ns) / 1e6);
	/* --user: before the command starts, so that a failure leaves it unstarted */
	if (!code && !lp_signalled)
		code = session__drop_privileges(&s);
	/* a signal before tracing starts: the command never runs (see the usage) */
	if (lp_signalled) {
		fprintf(stderr, "luprobe: interrupted before tracing started\n");
		session__free(&s);
		return 128 + lp_signalled;
	}
	/* nor does it when the main chunk called exit() */
	for (i = 0; !code && !s.stop && i < s.ntargets; i++)
		if (s.targets[i].launched)
			code = target__release(&s.targets[i]);
	if (code) {
		fprintf(stderr, "luprobe: %s\n", *lp_lasterr() ? lp_lasterr() : strerror(-code));
		session__free(&s);
		return 1;
	}
	session__loop(&s);
	code = session__finish(&s);
	session__free(&s);
	/* what the finalizers printed */
	if (output__report() && !code)
		code = 1;
	return code;
}

int main(int argc, char **argv)
{
	static struct env env;
	struct cmdline cl = {0};
	int opt, code, i, nopts = argc;

	/*
	 * Output to a pipe or file is written at the end of each batch of events,
	 * whole lines at a time: stdio's default buffer for a pipe (4 KiB) would
	 * also write when full, mid-line, and a command sharing the pipe could
	 * write its own lines into the middle of one of ours. Every write is
	 * checked (src/output.c).
	 */
	if (output__init())
		return fail("cannot set up the standard output");
	env.lua_budget = 100000000;
	env.memory = default_memory();
	env.drain_ms = 5;
	/* everything after "--" is the command, never options */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			nopts = i;
			if (i + 1 < argc)
				env.command = argv + i + 1;
			else
				return fail("-- must be followed by a command");
			argv[i] = NULL;
			break;
		}
	}
	while ((opt = getopt_long(nopts, argv, "p:e:a:I:l::o:qvh", long_opts, NULL)) != -1) {
		code = parse_option(opt, &env, &cl);
		if (code >= 0)
			return code;
	}
	if (env.otlp_json && !env.otlp)
		return fail("--otlp-json says how to send spans: give --otlp URL too");
	if (cl.list || cl.info)
		return inspect(&cl, &env, argv + optind, nopts - optind);
	if (!env.code) {
		if (optind >= nopts) {
			fputs(usage, stderr);
			return 2;
		}
		env.script = argv[optind++];
	}
	if (optind < nopts)
		return fail("unexpected argument; give script arguments with -a KEY=VALUE, and the "
			    "command to run after --");
	/* the command writes to the same stdout; before the Lua state takes it as io.stdout */
	if (env.command && !env.output)
		output__share();
	if (check_privileges(&env))
		return 1;
	return run(&env);
}
