// SPDX-License-Identifier: BSD-2-Clause
/*
 * Resolving a probe: its function or glob found in a binary and each
 * function compiled (compile.h), the scope points of a within probe, and
 * aggregations compiled into the plans of its functions. The layer above
 * the probe set (probe.h) and the compiler.
 */
#include <errno.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "callsites.h"
#include "compile.h"
#include "disasm.h"
#include "log.h"
#include "resolve.h"
#include "strbuf.h"

#define DEFAULT_LIMIT 1000
/* A '*' right after '(' is a pointer receiver, "(*T).M", not a wildcard. */
static bool has_glob(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p == '?' || (*p == '*' && (p == s || p[-1] != '(')))
			return true;
	return false;
}

/* Before compiling a glob's functions: the call sites of all that need them, at once. */
static int prepare_callsites(struct probe *p, struct binary *b, const struct gobin_func **funcs,
			     size_t n)
{
	uint64_t *targets = calloc(n ? n : 1, sizeof(*targets));
	size_t i, k = 0;
	int err;

	if (!targets)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct disasm_func d;

		if (!callsites__plain_func(funcs[i]->name) ||
		    disasm__entry(b->gb, funcs[i], &d) != 0)
			continue;
		if (compile__wants_callsites(p, funcs[i], &d))
			targets[k++] = funcs[i]->entry;
		disasm__free(&d);
	}
	err = k > 1 ? binary__find_callsites(b, targets, k) : 0;
	free(targets);
	return err;
}

static int resolve_funcs(struct probe_set *ps, struct probe *p, const char *path, int fd,
			 pid_t pid);

/* The recovery site of b and the plan its cookie names (made once per binary). */
static int binary__recovery(struct probe_set *ps, struct binary *b)
{
	struct lp_plan plan;
	uint64_t site;
	int idx, err;

	if (b->recover_known)
		return 0;
	err = binary__recovery_site(b, &site);
	if (err)
		return err;
	idx = tracer__alloc_plan(ps->tracer);
	if (idx < 0)
		return idx;
	memset(&plan, 0, sizeof(plan));
	plan.sched_off = b->rt.g_sched;
	plan.stackhi_off = b->rt.g_stack_hi;
	plan.goid_off = b->rt.g_goid;
	err = tracer__set_plan(ps->tracer, idx, &plan);
	if (err)
		return err;
	b->recover_plan = idx;
	b->recover_site = site;
	b->recover_known = true;
	pr_debug("%s: recovered panics resume at 0x%lx (runtime.recovery)\n", b->path,
		 (unsigned long)site);
	return 0;
}

/*
 * Where the runtime queues a goroutine it has just made: its only CALL of
 * runqput(pp, newg, true), in the closure newproc runs on the system stack
 * (Go 1.15 and later) or in newproc1 (1.13, 1.14), with newg in BX (register
 * ABI, 1.17 and later) or at 8(SP) (stack ABI). Where one ends: the entry of
 * runtime.goexit1, on the goroutine itself, in every release.
 */
static int spawn_sites(struct binary *b, uint64_t *spawn, uint64_t *goexit, uint16_t *newg_sp)
{
	static const char *const holders[] = {"runtime.newproc.func1", "runtime.newproc1"};
	const struct gobin_info *info = gobin__info(b->gb);
	const struct gobin_func *f = NULL, *ex = gobin__find_func(b->gb, "runtime.goexit1");
	uint64_t sites[2];
	size_t i;
	int n = 0, err;

	for (i = 0; i < 2 && n == 0; i++) {
		f = gobin__find_func(b->gb, holders[i]);
		n = f ? disasm__calls_to(b->gb, f, "runtime.runqput", sites, 2) : 0;
		if (n < 0)
			return n;
	}
	if (n != 1 || !ex) {
		lp_seterr("%s (Go %s): cannot find where the runtime starts goroutines "
			  "(runqput called %d times by newproc%s): spawned = true supports Go "
			  "1.13 to 1.27",
			  b->path, *info->go_version ? info->go_version : "release unknown", n,
			  ex ? "" : ", no runtime.goexit1");
		return -EINVAL;
	}
	err = binary__check_site(b, sites[0], f);
	if (!err)
		err = binary__check_site(b, ex->entry, ex);
	if (err)
		return err;
	*spawn = sites[0];
	*goexit = ex->entry;
	*newg_sp = info->go_minor >= 17 ? 0 : 8;
	return 0;
}

/* The spawn and goroutine-exit sites of b and the plan their cookies name (once per binary). */
static int binary__spawn(struct probe_set *ps, struct binary *b)
{
	struct lp_plan plan;
	uint64_t spawn, goexit;
	uint16_t newg_sp;
	int idx, err;

	if (b->spawn_known)
		return 0;
	err = spawn_sites(b, &spawn, &goexit, &newg_sp);
	if (err)
		return err;
	idx = tracer__alloc_plan(ps->tracer);
	if (idx < 0)
		return idx;
	memset(&plan, 0, sizeof(plan));
	plan.gsrc = newg_sp ? LP_G_TLS : LP_G_R14;
	plan.tls_off = b->tls_off;
	plan.goid_off = b->rt.g_goid;
	plan.m_off = b->rt.g_m;
	plan.curg_off = b->rt.m_curg;
	plan.stackhi_off = b->rt.g_stack_hi;
	plan.newg_sp = newg_sp;
	err = tracer__set_plan(ps->tracer, idx, &plan);
	if (err)
		return err;
	b->spawn_plan = idx;
	b->spawn_site = spawn;
	b->goexit_site = goexit;
	b->spawn_known = true;
	pr_debug("%s: goroutines are queued at 0x%lx and end at 0x%lx\n", b->path,
		 (unsigned long)spawn, (unsigned long)goexit);
	return 0;
}

/* The spawn and goroutine-exit points of p in (b, pid), unless it has them. */
static int spawn_points(struct probe_set *ps, struct probe *p, struct binary *b, pid_t pid)
{
	size_t j;
	int err;

	for (j = 0; j < p->npoints; j++)
		if (p->points[j].is_spawn && p->points[j].bin == b && p->points[j].pid == pid)
			return 0;
	err = binary__spawn(ps, b);
	if (!err)
		err = probe__add_point(p, b, b->spawn_site,
				       LP_COOKIE(b->spawn_plan, LP_SITE_SPAWN, 0, 0, 0), pid,
				       gobin__find_func(b->gb, "runtime.runqput"), false);
	if (!err)
		p->points[p->npoints - 1].is_spawn = true;
	if (!err)
		err = probe__add_point(p, b, b->goexit_site,
				       LP_COOKIE(b->spawn_plan, LP_SITE_GOEXIT, 0, 0, 0), pid,
				       gobin__find_func(b->gb, "runtime.goexit1"), false);
	if (!err)
		p->points[p->npoints - 1].is_spawn = true;
	return err;
}

int probe__scope_points(struct probe_set *ps, struct probe *p)
{
	size_t i, j, n = p->npoints;
	int err;

	for (i = 0; i < n; i++) {
		struct attach_point *ap = &p->points[i];
		struct binary *b = ap->bin;
		pid_t pid = ap->pid;

		if (ap->is_recover || ap->is_spawn)
			continue;
		if (p->scope_spawn) {
			err = spawn_points(ps, p, b, pid);
			if (err)
				return err;
		}
		for (j = 0; j < p->npoints; j++)
			if (p->points[j].is_recover && p->points[j].bin == b &&
			    p->points[j].pid == pid)
				break;
		if (j < p->npoints)
			continue;
		err = binary__recovery(ps, b);
		if (!err)
			err = probe__add_point(p, b, b->recover_site,
					LP_COOKIE(b->recover_plan, LP_SITE_RECOVER, 0, 0, 0), pid,
					gobin__find_func(b->gb, "runtime.recovery"), false);
		if (err)
			return err;
		p->points[p->npoints - 1].is_recover = true;
	}
	return 0;
}

/* name with the contents of every outermost [...] replaced: "F[go.shape.int]" -> "F[...]" */
static void generic_key(const char *name, char *out, size_t len)
{
	size_t k = 0;
	int depth = 0;

	for (; *name && k + 4 < len; name++) {
		if (*name == ']' && --depth == 0)
			k += snprintf(out + k, len - k, "...");
		if (depth == 0)
			out[k++] = *name;
		if (*name == '[')
			depth++;
	}
	out[k] = '\0';
}

/*
 * A call of a generic method through an interface goes through a generated
 * wrapper (funcID wrapper) that calls the shape instance: when a glob
 * matches both, the wrapper is left out, or such a call would be seen twice.
 * Returns how many of funcs[0..n) are kept, in order.
 */
static size_t drop_generic_wrappers(const struct gobin_func **funcs, size_t n)
{
	char a[512], b[512];
	size_t i, j, k = 0;

	for (i = 0; i < n; i++) {
		bool covered = false;

		if (funcs[i]->funcid && strchr(funcs[i]->name, '[')) {
			generic_key(funcs[i]->name, a, sizeof(a));
			for (j = 0; j < n && !covered; j++) {
				if (funcs[j]->funcid || !strchr(funcs[j]->name, '['))
					continue;
				generic_key(funcs[j]->name, b, sizeof(b));
				covered = strcmp(a, b) == 0;
			}
		}
		if (covered)
			pr_debug("%s at 0x%lx: a wrapper of a shape instance the pattern matches; "
				 "not probed\n",
				 funcs[i]->name, (unsigned long)funcs[i]->entry);
		else
			funcs[k++] = funcs[i];
	}
	return k;
}

/* Is funcs[i] the first of its name (a later one is an ABI wrapper of it)? */
static bool first_of_name(const struct gobin_func **funcs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(funcs[j]->name, funcs[i]->name) == 0)
			return false;
	return true;
}

int probe__resolve(struct probe_set *ps, struct probe *p, const char *path, pid_t pid)
{
	return probe__resolve_fd(ps, p, path, -1, pid);
}

int probe__resolve_fd(struct probe_set *ps, struct probe *p, const char *path, int fd, pid_t pid)
{
	int err = resolve_funcs(ps, p, path, fd, pid);

	if (!err && p->scope)
		err = probe__scope_points(ps, p);
	return err;
}

static int resolve_funcs(struct probe_set *ps, struct probe *p, const char *path, int fd,
			 pid_t pid)
{
	const struct probe_spec *sp = &p->spec;
	const struct gobin_func **funcs = NULL, *one;
	uint32_t limit = sp->limit ? sp->limit : DEFAULT_LIMIT;
	struct binary *b;
	size_t n, i, skipped = 0;
	char first[512] = "";
	bool normal;
	int err;

	err = probe_set__binary(ps, path, fd, &b);
	if (!err && sp->debug)
		err = binary__set_debug(b, sp->debug);
	if (err)
		return err;
	one = gobin__find_func(b->gb, sp->func);
	if (one && !strstr(sp->func, "[...]")) {
		/* other functions of the same name are ABI wrappers of this one */
		return compile__func(ps, p, b, one, pid);
	}
	if (one || (strstr(sp->func, "[...]") && !has_glob(sp->func) &&
		    gobin__glob(b->gb, sp->func, NULL, 0))) {
		/*
		 * every instantiation of a generic function: Go 1.18-1.20 name
		 * them all "F[...]", later releases "F[go.shape.int]", which
		 * "[...]" matches
		 */
		n = gobin__glob(b->gb, sp->func, NULL, 0);
		funcs = calloc(n ? n : 1, sizeof(*funcs));
		if (!funcs)
			return -ENOMEM;
		n = gobin__glob(b->gb, sp->func, funcs, n);
		for (i = 0, normal = false; i < n; i++)
			normal |= !funcs[i]->funcid;
		for (i = 0, err = 0; i < n && !err; i++) {
			if (one ? strcmp(funcs[i]->name, sp->func) != 0 : !first_of_name(funcs, i))
				continue;
			/*
			 * an instantiation called through an interface or a method
			 * value goes through a generated wrapper (funcID wrapper)
			 * that calls the shape function: probing both would see
			 * such a call twice
			 */
			if (normal && funcs[i]->funcid)
				continue;
			err = compile__func(ps, p, b, funcs[i], pid);
		}
		free(funcs);
		return err;
	}
	if (!has_glob(sp->func)) {
		const char *sugg[3];
		size_t ns = gobin__suggest(b->gb, sp->func, sugg, 3);
		struct strbuf sb;

		sb_init(&sb);
		for (i = 0; i < ns; i++)
			sb_printf(&sb, "%s%s", i ? ", " : " (did you mean ", sugg[i]);
		if (ns)
			sb_puts(&sb, "?)");
		lp_seterr("%s: no such function in %s%s", sp->func, path, sb_str(&sb));
		sb_free(&sb);
		return -ENOENT;
	}
	n = gobin__glob(b->gb, sp->func, NULL, 0);
	if (!n) {
		lp_seterr("%s: no function matches in %s", sp->func, path);
		return -ENOENT;
	}
	if (n > limit) {
		lp_seterr("%s: matches %zu functions in %s, more than the limit of %u; narrow the "
			  "pattern or raise limit=",
			  sp->func, n, path, limit);
		return -E2BIG;
	}
	funcs = calloc(n, sizeof(*funcs));
	if (!funcs)
		return -ENOMEM;
	gobin__glob(b->gb, sp->func, funcs, n);
	n = drop_generic_wrappers(funcs, n);
	err = prepare_callsites(p, b, funcs, n);
	for (i = 0; i < n && !err; i++) {
		if (ps->interrupted && *ps->interrupted) {
			lp_seterr("interrupted");
			err = -EINTR;
			break;
		}
		err = compile__func(ps, p, b, funcs[i], pid);
		if (err == -EINVAL || err == -ENOENT || err == -E2BIG) {
			size_t len = strlen(funcs[i]->name);

			/* a glob skips what cannot be probed as asked, and says so */
			if (!skipped++)
				snprintf(first, sizeof(first), "%s", lp_lasterr());
			/* the message names the function, most of the time */
			if (strncmp(lp_lasterr(), funcs[i]->name, len) == 0 &&
			    (lp_lasterr()[len] == ':' || lp_lasterr()[len] == ' '))
				pr_info("luprobe: skipping %s\n", lp_lasterr());
			else
				pr_info("luprobe: skipping %s: %s\n", funcs[i]->name, lp_lasterr());
			lp_clearerr();
			err = 0;
		}
		if (err)
			break;
	}
	free(funcs);
	if (!err && skipped == n) {
		lp_seterr("%s", first);
		return -EINVAL;
	}
	if (!err && skipped)
		fprintf(stderr, "luprobe: %s: %zu of %zu functions skipped: %s%s\n", sp->func,
			skipped, n, first, skipped > 1 ? " (-v lists them all)" : "");
	return err;
}

/*
 * Keys for who made the call (pid, tid, goid, comm) and where from (stack),
 * when the function has no parameter or result of that name.
 */
static bool agg_ctx_key(struct planinfo *pi, const char *name, uint8_t *src, uint16_t *off,
			uint8_t *size, enum agg_keykind *kind)
{
	struct lp_plan *bp = plan__bpf(pi->pb);

	if (!strcmp(name, "stack")) {
		*src = LP_AS_STACK;
		*kind = AK_STACK;
		bp->flags |= LP_PF_STACK;
		return true;
	}
	if (!strcmp(name, "comm")) {
		*src = LP_AS_COMM;
		*kind = AK_STR;
	} else if (!strcmp(name, "pid") || !strcmp(name, "tid") || !strcmp(name, "goid")) {
		*src = LP_AS_REG;
		*off = name[0] == 'p' ? LP_REG_PID : name[0] == 't' ? LP_REG_TID : LP_REG_GOID;
		*size = 8;
		*kind = name[0] == 'g' ? AK_GOID : AK_UINT;
	} else {
		return false;
	}
	bp->flags |= LP_PF_CTX;
	return true;
}

/* Where an aggregation's key or value comes from in one plan. */
static int agg_source(struct planinfo *pi, const char *name, bool is_key, uint8_t *src,
		      uint16_t *off, uint8_t *size, bool *sgn, uint8_t *slot,
		      enum agg_keykind *kind, bool *at_return)
{
	const struct dnode *d;
	bool res = false;

	if (!strcmp(name, "latency") && !is_key) {
		if (!pi->want_ret) {
			lp_seterr("%s: latency needs ret = true", pi->func->name);
			return -EINVAL;
		}
		*src = LP_AS_LATENCY;
		*at_return = true;
		return 0;
	}
	if (!strcmp(name, "func") && is_key) {
		*src = LP_AS_PLAN;
		*kind = AK_FUNC;
		return 0;
	}
	d = plan__resolve(pi->pb, name, &res);
	if (!d) {
		int err = compile__capture_hidden(pi, name);

		if (err == -E2BIG) {
			char msg[300];

			snprintf(msg, sizeof(msg), "%s", lp_lasterr());
			lp_seterr("%s: %s", pi->func->name, msg);
			return err;
		}
		if (!err)
			d = plan__resolve(pi->pb, name, &res);
	}
	if (!d && is_key && agg_ctx_key(pi, name, src, off, size, kind))
		return 0;
	if (!d) {
		lp_seterr("%s: no parameter or result '%s' to aggregate", pi->func->name, name);
		return -EINVAL;
	}
	if (d->avail != DA_OK) {
		lp_seterr("%s: %s cannot be read by a probe (floating-point register)",
			  pi->func->name, name);
		return -EINVAL;
	}
	*at_return |= res;
	*slot = d->slot;
	if (d->kind == DN_STRING && is_key) {
		*src = LP_AS_STR;
		*off = d->var;
		*slot = d->var_slot;
		*kind = AK_STR;
		return 0;
	}
	if (d->kind == DN_SCALAR && (d->type->kind == GK_INT || d->type->kind == GK_UINT ||
				     d->type->kind == GK_UINTPTR || d->type->kind == GK_BOOL)) {
		*src = LP_AS_INT;
		*off = d->img;
		*size = d->type->size;
		*sgn = d->type->kind == GK_INT;
		*kind = d->type->kind == GK_BOOL ? AK_BOOL : *sgn ? AK_INT : AK_UINT;
		return 0;
	}
	lp_seterr("%s: %s is a %s; aggregations take integers%s", pi->func->name, name,
		  d->type->name ? d->type->name : "value", is_key ? ", booleans or strings" : "");
	return -EINVAL;
}

static bool same_agg(const struct lp_agg_spec *a, const struct lp_agg_spec *b)
{
	return a->kind == b->kind && a->key_src == b->key_src && a->key_off == b->key_off &&
	       a->val_src == b->val_src && a->val_off == b->val_off && a->lmin == b->lmin &&
	       a->lstep == b->lstep && a->lcount == b->lcount && a->sign == b->sign;
}

int probe__add_agg(struct probe_set *ps, struct probe *p, struct agg_req *req,
		   enum agg_keykind *keykind)
{
	size_t i, j;
	int err;

	if (tracer__loaded(ps->tracer)) {
		lp_seterr("%s: create aggregations before attach()", p->spec.func);
		return -EINVAL;
	}
	*keykind = AK_NONE;
	req->val_signed = false;
	for (i = 0; i < p->nplans; i++) {
		struct planinfo *pi = &ps->plans[p->plans[i]];
		struct lp_plan *bp = plan__bpf(pi->pb);
		struct lp_agg_spec sp = {.id = req->id, .kind = req->kind};
		enum agg_keykind kk = AK_NONE, vk = AK_NONE;
		bool sgn = false, at_ret = false;

		if (bp->naggs == LP_MAX_AGGS) {
			lp_seterr("%s: at most %d aggregations per probe", pi->func->name,
				  LP_MAX_AGGS);
			return -E2BIG;
		}
		if (req->key) {
			err = agg_source(pi, req->key, true, &sp.key_src, &sp.key_off, &sp.key_size,
					 &sgn, &sp.key_slot, &kk, &at_ret);
			if (err)
				return err;
			if (sgn)
				sp.sign |= 2;
		}
		if (req->value) {
			sgn = false;
			err = agg_source(pi, req->value, false, &sp.val_src, &sp.val_off,
					 &sp.val_size, &sgn, &sp.val_slot, &vk, &at_ret);
			if (err)
				return err;
			if (sgn)
				sp.sign |= 1;
		}
		if (at_ret && !pi->want_ret) {
			lp_seterr("%s: aggregating a result needs ret = true", pi->func->name);
			return -EINVAL;
		}
		if (i && kk != *keykind) {
			lp_seterr("%s: the key %s has different types in the functions of %s",
				  pi->func->name, req->key, p->spec.func);
			return -EINVAL;
		}
		/* one signedness for the whole aggregation: min, max and sums depend on it */
		if (i && req->val_signed != ((sp.sign & 1) != 0)) {
			lp_seterr("%s: the value %s is signed in some functions of %s and unsigned "
				  "in others; aggregate them in separate probes",
				  pi->func->name, req->value, p->spec.func);
			return -EINVAL;
		}
		*keykind = kk;
		req->val_signed = sp.sign & 1;
		sp.lmin = req->lmin;
		sp.lstep = req->lstep;
		sp.lcount = req->lcount;
		bp = plan__bpf(pi->pb); /* hidden captures may have added ops */
		for (j = 0; j < bp->naggs; j++) {
			if (same_agg(&bp->aggs[j], &sp)) {
				/* the kernel already keeps this: share it (all plans agree) */
				req->id = bp->aggs[j].id;
				return 0;
			}
		}
		bp->aggs[bp->naggs++] = sp;
		err = tracer__set_plan(ps->tracer, p->plans[i], bp);
		if (err)
			return err;
	}
	p->naggs++;
	return 0;
}

/* Forget p's points in b not attached yet. */
static void drop_points(struct probe *p, const struct binary *b)
{
	size_t i, k;

	for (i = 0, k = 0; i < p->npoints; i++)
		if (p->points[i].bin != b || p->points[i].attached)
			p->points[k++] = p->points[i];
	p->npoints = k;
}

static bool uses(const struct probe *p, const struct binary *b)
{
	size_t i;

	for (i = 0; i < p->npoints; i++)
		if (p->points[i].bin == b)
			return true;
	return false;
}

/*
 * b's path names another file: say so, and resolve again the probes that ask
 * for it. The number of probes resolved again, or -errno.
 */
static int on_replaced(struct probe_set *ps, struct binary *b, bool resolve)
{
	struct stat st;
	size_t i, follow = 0;
	int err = 0, n = 0;

	if (stat(b->path, &st) < 0) {
		/* removed: a deploy may put a new file there next */
		if (!b->gone_told)
			fprintf(stderr,
				"luprobe: %s no longer exists (removed after luprobe read it): "
				"the probes stay on the file read, and its processes are traced\n",
				b->path);
		b->gone_told = true;
		return 0;
	}
	b->replaced = true; /* its path leads to the new file from now on */
	for (i = 0; i < ps->nprobes && resolve; i++)
		follow += ps->probes[i]->spec.follow_path && uses(ps->probes[i], b);
	if (!follow)
		fprintf(stderr,
			"luprobe: %s now names another file than the one luprobe read: the "
			"probes stay on the file read (its processes are traced, the new file's "
			"are not); replaced = \"resolve\" in a probe resolves it in the new file\n",
			b->path);
	else
		fprintf(stderr,
			"luprobe: %s now names another file than the one luprobe read: %zu "
			"probe%s with replaced = \"resolve\" %s resolved in the new file, the "
			"others stay on the file read\n",
			b->path, follow, follow == 1 ? "" : "s", follow == 1 ? "is" : "are");
	for (i = 0; i < ps->nprobes && !err && follow; i++) {
		struct probe *p = ps->probes[i];

		if (!p->spec.follow_path || !uses(p, b))
			continue;
		drop_points(p, b);
		err = probe__resolve(ps, p, b->path, -1);
		n++;
	}
	return err ? err : n;
}

int probe_set__check_replaced(struct probe_set *ps, bool resolve)
{
	struct binary *b;
	int n = 0, r;

	/* new binaries are put first: those opened by on_replaced are not looked at */
	for (b = ps->bins; b; b = b->next) {
		if (!b->by_path || b->replaced || !binary__replaced(b))
			continue;
		r = on_replaced(ps, b, resolve);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}
