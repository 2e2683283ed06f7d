// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "callsites.h"
#include "disasm.h"
#include "goabi.h"
#include "log.h"
#include "predicate.h"
#include "probe.h"
#include "strbuf.h"

#define DEFAULT_LIMIT 1000
#define MAX_PARAMS    64
#define RAW_MAX_WORDS 10 /* as many as a Go traceback prints */

/* A '*' right after '(' is a pointer receiver, "(*T).M", not a wildcard. */
static bool has_glob(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p == '?' || (*p == '*' && (p == s || p[-1] != '(')))
			return true;
	return false;
}

/*
 * A function whose entry probe would be single-stepped is probed at its
 * call sites when those are all its calls (see callsites.h), unless the
 * probe captures stacks (the stack at a call site lacks the function).
 */
static bool wants_callsites(const struct probe *p, const struct gobin_func *f,
			    const struct disasm_func *d)
{
	return d->site_kind == LP_SITE_ENTRY && !d->emulated && !p->spec.stack &&
	       callsites__plain_func(f->name) && !getenv("LUPROBE_NO_CALLSITES");
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
		if (wants_callsites(p, funcs[i], &d))
			targets[k++] = funcs[i]->entry;
		disasm__free(&d);
	}
	err = k > 1 ? binary__find_callsites(b, targets, k) : 0;
	free(targets);
	return err;
}

int probe_set__binary(struct probe_set *ps, const char *path, struct binary **out)
{
	struct binary *b;
	int err;

	for (b = ps->bins; b; b = b->next) {
		if (strcmp(b->path, path) == 0) {
			*out = b;
			return 0;
		}
	}
	err = binary__open(path, &b);
	if (err)
		return err;
	b->next = ps->bins;
	ps->bins = b;
	*out = b;
	return 0;
}

int probe_set__add(struct probe_set *ps, struct probe_spec *spec, struct probe **out)
{
	struct probe *p, **np;

	np = realloc(ps->probes, (ps->nprobes + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	ps->probes = np;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->id = ps->nprobes;
	p->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	p->enabled = p->spec.enabled;
	ps->probes[ps->nprobes++] = p;
	*out = p;
	return 0;
}

const struct planinfo *probe_set__plan(const struct probe_set *ps, uint32_t idx)
{
	if (idx >= ps->plans_cap || !ps->plans[idx].probe)
		return NULL;
	return &ps->plans[idx];
}

static struct planinfo *new_planinfo(struct probe_set *ps, uint32_t idx)
{
	if (idx >= ps->plans_cap) {
		size_t cap = ps->plans_cap ? ps->plans_cap * 2 : 64;
		struct planinfo *n;

		while (cap <= idx)
			cap *= 2;
		n = realloc(ps->plans, cap * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + ps->plans_cap, 0, (cap - ps->plans_cap) * sizeof(*n));
		ps->plans = n;
		ps->plans_cap = cap;
	}
	return &ps->plans[idx];
}

/*
 * Every site of f passes here before anything is built on it: the entry
 * site and every RET, then the call sites when f is to be probed there
 * (*use_cs). A call site that fails (in a function whose entry is
 * implausible) makes f probed at its entry instead, as the call sites could
 * then not be known to be all its calls.
 */
static int check_sites(struct binary *b, const struct gobin_func *f, const struct disasm_func *d,
		       const struct callsites *cs, bool *use_cs)
{
	size_t i;
	int err = binary__check_site(b, d->entry_site, f);

	for (i = 0; !err && i < d->nrets; i++)
		err = binary__check_site(b, d->rets[i], f);
	*use_cs = !err && cs && cs->eligible;
	for (i = 0; *use_cs && i < cs->nsites; i++) {
		err = binary__check_site(b, cs->sites[i], f);
		if (err == -EINVAL) {
			pr_info("luprobe: %s: probed at its entry, not at its call sites: %s\n",
				f->name, lp_lasterr());
			lp_clearerr();
			err = 0;
			*use_cs = false;
		}
		if (err)
			return err;
	}
	return err;
}

/* Record a site that check_sites() passed. */
static int add_point(struct probe *p, struct binary *b, uint64_t vaddr, uint64_t cookie, pid_t pid,
		     const struct gobin_func *f, bool is_ret)
{
	uint64_t off;

	if (gobin__vaddr_to_offset(b->gb, vaddr, &off)) {
		lp_seterr("%s: address 0x%lx is not backed by %s", f->name, (unsigned long)vaddr,
			  b->path);
		return -EINVAL;
	}
	if (p->npoints == p->points_cap) {
		size_t cap = p->points_cap ? p->points_cap * 2 : 16;
		struct attach_point *n = realloc(p->points, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->points = n;
		p->points_cap = cap;
	}
	p->points[p->npoints++] = (struct attach_point){
		.is_ret = is_ret, .bin = b, .offset = off, .cookie = cookie, .pid = pid};
	return 0;
}

/* Split "r.URL.Path" into the parameter name and the path after it. */
static const char *split_path(const char *name, char *first, size_t len)
{
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);

	if (n >= len)
		n = len - 1;
	memcpy(first, name, n);
	first[n] = '\0';
	return dot ? dot + 1 : NULL;
}

static const struct gotype *lookup_dwarf_type(void *ctx, const char *name)
{
	struct binary *b = ctx;
	struct godwarf *dw = binary__dwarf(b);

	return dw ? godwarf__type(dw, name) : NULL;
}

/* Parse the declared parameters into goparams. */
static int declared(struct binary *b, const struct probe_arg *decl, size_t n, bool results,
		    const char *fname, struct goparam *out)
{
	char err[256];
	size_t i;

	for (i = 0; i < n; i++) {
		char name[32];

		if (gotypes__parse(b->ts, decl[i].type, lookup_dwarf_type, b, &out[i].type, err,
				   sizeof(err))) {
			lp_seterr("%s: %s %s: %s", fname, results ? "result" : "argument",
				  decl[i].name ? decl[i].name : decl[i].type, err);
			return -EINVAL;
		}
		if (!decl[i].name)
			snprintf(name, sizeof(name), "~r%zu", i);
		out[i].name = gotypes__strdup(b->ts, decl[i].name ? decl[i].name : name);
		out[i].is_result = results;
	}
	return 0;
}

static void list_params(struct strbuf *sb, const struct goparam *params, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (params[i].is_result)
			continue;
		sb_printf(sb, "%s%s", k++ ? ", " : "", params[i].name);
	}
	if (!k)
		sb_puts(sb, "none");
}

/*
 * The raw argument words when nothing says what the arguments are, as a Go
 * traceback prints them. Go 1.17+ records the layout of the arguments
 * (funcdata ArgInfo: offset and size of each word from the argument area at
 * entry SP+8, stack-assigned arguments first, then the spill slots of the
 * register-assigned ones). The morestack path of the function stores each
 * live register argument into its spill slot, which says which register
 * holds the word; a word below the spill area is on the stack. Anything else
 * (a dead register argument, a function without a morestack path) is shown
 * as unreadable rather than guessed. Before Go 1.17 every word is on the
 * stack, arguments then results, f->args bytes in all.
 */
static int add_raw(struct plan_builder *pb, const struct disasm_func *d, const struct gobin *gb,
		   const struct gobin_func *f, bool regabi)
{
	uint8_t info[256];
	char name[16];
	int32_t spill_start = INT32_MAX;
	size_t i, j, k = 0;
	int n, err;

	if (!regabi) {
		for (i = 0; f->args > 0 && i < (size_t)f->args / 8 && k < RAW_MAX_WORDS; i++) {
			snprintf(name, sizeof(name), "a%zu", k++);
			err = plan__add_raw(pb, name, RAW_STACK, 0, 8 + 8 * i, 8);
			if (err)
				return err;
		}
		return 0;
	}
	n = gobin__arginfo(gb, f, info, sizeof(info));
	if (n <= 0)
		return 0;
	for (j = 0; j < d->nspills; j++)
		if (d->spills[j].off - 8 < spill_start)
			spill_start = d->spills[j].off - 8;
	for (i = 0; i < (size_t)n && k < RAW_MAX_WORDS; i++) {
		uint8_t b = info[i], off, size;
		enum raw_loc loc = RAW_UNKNOWN;
		int reg = 0;

		if (b == 0xff || b == 0xfc) /* end; more arguments than recorded */
			break;
		if (b == 0xfe || b == 0xfd) /* an aggregate starts or ends */
			continue;
		snprintf(name, sizeof(name), "a%zu", k++);
		if (b == 0xfb) { /* offset too large to record */
			err = plan__add_raw(pb, name, RAW_UNKNOWN, 0, 0, 8);
			if (err)
				return err;
			continue;
		}
		if (i + 1 >= (size_t)n)
			break;
		off = b;
		size = info[++i];
		for (j = 0; j < d->nspills; j++) {
			if (d->spills[j].off - 8 != off)
				continue;
			if (d->spills[j].cls == GOREG_FLOAT)
				loc = RAW_FLOAT;
			else if (d->spills[j].reg != 0xff)
				loc = RAW_REG, reg = d->spills[j].reg;
		}
		if (loc == RAW_UNKNOWN && off < spill_start && d->nspills)
			loc = RAW_STACK;
		err = plan__add_raw(pb, name, loc, reg, 8 + off, size);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The size of f's argument area as the pclntab records it, for these
 * argument and result types, or -1 if they cannot be placed. Under the
 * stack ABI (Go 1.16 and before, and assembly) it holds the arguments and
 * the results; under the register ABI the stack-assigned arguments, the
 * stack-assigned results (arrays of more than one element, values that ran
 * out of registers) and the spill slots of the register-assigned arguments,
 * in that order (cmd/compile's ABIParamResultInfo.ArgWidth).
 */
static int64_t pclntab_args(bool regabi, const struct gotype *const *pt, size_t np,
			    const struct gotype *const *rt, size_t nr)
{
	struct goassign *pl = calloc(np + 1, sizeof(*pl)), *rl = calloc(nr + 1, sizeof(*rl));
	struct goframe fr;
	int64_t size = -1;

	if (pl && rl &&
	    goabi__assign(regabi ? GOABI_REG : GOABI_STACK, pt, np, rt, nr, pl, rl, &fr) == 0)
		size = (int64_t)fr.args_size + fr.results_size + (regabi ? fr.spill_size : 0);
	free(pl);
	free(rl);
	return size;
}

/*
 * Go's DWARF leaves out blank and unnamed parameters, which still occupy
 * registers and stack. The pclntab's argument size counts every parameter
 * and result as the function's ABI lays them out: if DWARF's list does not
 * add up to it, a layout computed from DWARF would be wrong.
 */
bool probe__dwarf_complete(const struct gobin_func *f, const struct goparam *params, size_t n,
			   bool regabi_era)
{
	const struct gotype *pt[MAX_PARAMS], *rt[MAX_PARAMS];
	size_t np = 0, nr = 0, i;
	int64_t want;

	if (f->args < 0 || n > MAX_PARAMS)
		return true;
	for (i = 0; i < n; i++) {
		if (params[i].is_result)
			rt[nr++] = params[i].type;
		else
			pt[np++] = params[i].type;
	}
	want = pclntab_args(regabi_era && !f->asm_abi0, pt, np, rt, nr);
	if (want >= 0 && want != f->args) {
		pr_debug("%s: DWARF parameters take %ld bytes, the pclntab says %d\n", f->name,
			 (long)want, f->args);
		return false;
	}
	return true;
}

/*
 * Declared arguments (and results, when declared) must fit in the
 * function's argument area as the pclntab measures it: more would read
 * what lies beyond as arguments.
 */
static int declared_fit(const struct gobin_func *f, const struct goparam *params, size_t np,
			size_t nr, bool regabi_era)
{
	const struct gotype *pt[MAX_PARAMS], *rt[MAX_PARAMS];
	int64_t need;
	size_t i;

	if (f->args < 0 || np + nr > MAX_PARAMS)
		return 0;
	for (i = 0; i < np; i++)
		pt[i] = params[i].type;
	for (i = 0; i < nr; i++)
		rt[i] = params[np + i].type;
	need = pclntab_args(regabi_era && !f->asm_abi0, pt, np, rt, nr);
	/* assembly may declare an area that ends mid-word ($0-65): the last word is whole */
	if (need > ((int64_t)f->args + 7) / 8 * 8) {
		lp_seterr("%s: the %s declared take %ld bytes, but its own take %d (the pclntab "
			  "says); declare its parameters in order, and no more",
			  f->name, nr ? "arguments and results" : "arguments", (long)need, f->args);
		return -EINVAL;
	}
	return 0;
}

/* Capture a parameter (or a field path of one) that the probe did not ask for, hidden. */
static int capture_hidden(struct planinfo *pi, const char *path)
{
	char first[128];
	const char *rest = split_path(path, first, sizeof(first));
	size_t i;

	for (i = 0; i < pi->np + pi->nr; i++) {
		struct plan_param pp;
		bool res = i >= pi->np;
		int err;

		if (strcmp(pi->params[i].name, first) != 0)
			continue;
		if (res && !pi->want_ret)
			return -ENOENT;
		pp = (struct plan_param){pi->params[i].name, pi->params[i].type, res,
					 res ? &pi->rloc[i - pi->np] : &pi->ploc[i]};
		err = plan__add(pi->pb, &pp, rest, path);
		if (err)
			return err == -E2BIG ? err : -EINVAL;
		plan__hide(pi->pb, path);
		return 0;
	}
	return -ENOENT;
}

static int pred_capture(void *arg, const char *path)
{
	return capture_hidden(arg, path);
}

/*
 * Compiling one function of a probe is a pipeline of stages over one struct
 * compile, each filling what the next ones read (libbpf's
 * bpf_object_prepare: err = err ?: stage(c)), with one cleanup:
 *
 *   sites      the entry site and every RET, decoded and checked; call sites
 *   signature  the parameters and results, from the first source that has them
 *   abi        where each of them lives (registers or stack)
 *   plan       the values to capture, fitted into a plan, and the predicate
 *   register   a plan index, the planinfo, the BPF plan's fields and flags
 *   points     the attach points: entry or call sites, RETs
 */
struct compile {
	struct probe_set *ps;
	struct probe *p;
	const struct probe_spec *sp;
	struct binary *b;
	const struct gobin_func *f;
	pid_t pid;
	bool regabi;   /* this function takes the register ABI */
	bool go117;    /* the binary's release has the register ABI (its pclntab sizes say so) */
	bool want_ret; /* results and latency: probes on the RETs, calls paired */
	/* sites */
	struct disasm_func d;
	bool have_d;
	const struct callsites *cs;
	bool use_cs; /* probed at its call sites instead of its entry */
	/* signature: np arguments, then nr results */
	struct goparam params[MAX_PARAMS];
	size_t np, nr;
	struct goparam rets[MAX_PARAMS]; /* the results, until they join params */
	const char *args_from, *rets_from; /* the source that gave them; NULL: none */
	bool raw; /* the raw argument words (nothing says what they are) */
	/* abi */
	struct goassign *ploc, *rloc;
	struct goframe frame;
	/* plan */
	struct plan_builder *pb;
	/* register */
	int idx;
	struct planinfo *pi;
};

/*
 * Signature sources, in order of precedence. Each may give the arguments,
 * the results, both or neither (args, rets: what is still wanted); the first
 * that gives the arguments gives them, and likewise the results. Later
 * sources slot in after DWARF: the standard library's signatures
 * (stdsig.h), the binary's runtime type descriptors. With none, the
 * arguments are shown as the raw words (add_raw) and the results are unknown.
 */
static int sig_script(struct compile *c, bool args, bool rets)
{
	const struct probe_spec *sp = c->sp;
	int err;

	if (args && sp->args_mode == PA_DECL) {
		if (sp->nargs > MAX_PARAMS) {
			lp_seterr("%s: too many arguments declared", c->f->name);
			return -EINVAL;
		}
		err = declared(c->b, sp->args, sp->nargs, false, c->f->name, c->params);
		if (err)
			return err;
		c->np = sp->nargs;
		c->args_from = "the script";
	}
	if (rets && sp->ret_mode == PR_DECL) {
		if (sp->nrets > MAX_PARAMS) {
			lp_seterr("%s: too many results declared", c->f->name);
			return -EINVAL;
		}
		err = declared(c->b, sp->rets, sp->nrets, true, c->f->name, c->rets);
		if (err)
			return err;
		c->nr = sp->nrets;
		c->rets_from = "the script";
	}
	return 0;
}

static int sig_dwarf(struct compile *c, bool args, bool rets)
{
	const struct probe_spec *sp = c->sp;
	struct godwarf *dw = binary__dwarf(c->b);
	const struct goparam *dp = NULL;
	size_t n = 0, i;

	if (!dw || godwarf__func_params_at(dw, c->f->name, c->f->entry, &dp, &n) != 0 || !dp)
		return 0;
	if (!probe__dwarf_complete(c->f, dp, n, c->go117)) {
		if (args && (sp->args_mode == PA_ALL || sp->args_mode == PA_NAMES)) {
			lp_seterr("%s: the DWARF of %s does not describe every parameter (blank, "
				  "unnamed or wrapper parameters take registers too); declare the "
				  "arguments with their types, e.g. args = { {\"_\", \"int\"}, "
				  "{\"s\", \"string\"} }",
				  c->f->name, c->b->path);
			return -EINVAL;
		}
		/* a layout from an incomplete list would be wrong: show raw words */
		pr_info("luprobe: %s: DWARF does not describe every parameter; showing the raw "
			"argument words\n",
			c->f->name);
		return 0;
	}
	for (i = 0; args && i < n && c->np < MAX_PARAMS; i++)
		if (!dp[i].is_result)
			c->params[c->np++] = dp[i];
	if (args)
		c->args_from = "DWARF";
	/* ret = true takes DWARF's results; declared ones came from the script */
	for (i = 0; rets && sp->ret_mode == PR_ALL && i < n && c->np + c->nr < MAX_PARAMS; i++)
		if (dp[i].is_result)
			c->rets[c->nr++] = dp[i];
	if (rets && sp->ret_mode == PR_ALL)
		c->rets_from = "DWARF";
	return 0;
}

static const struct sig_source {
	const char *name;
	int (*get)(struct compile *c, bool args, bool rets);
} sig_sources[] = {
	{"the script's declarations", sig_script},
	{"DWARF", sig_dwarf},
};

/*
 * The values a probe shows: raw argument words, the parameters it names, or
 * all of them, and the results. Whole parameters and results are best
 * effort (plan__fit); a field path is captured in full or is an error.
 */
static int add_values(struct compile *c)
{
	const struct probe_spec *sp = c->sp;
	const struct goparam *params = c->params;
	size_t i, j, np = c->np;
	int err = 0;

	if (c->raw) {
		err = add_raw(c->pb, &c->d, c->b->gb, c->f, c->regabi);
	} else if (sp->args_mode == PA_NAMES) {
		for (i = 0; i < sp->nargs && !err; i++) {
			char first[128];
			const char *path = split_path(sp->args[i].name, first, sizeof(first));
			struct plan_param pp;

			for (j = 0; j < np; j++)
				if (strcmp(params[j].name, first) == 0)
					break;
			if (j == np) {
				struct strbuf sb;

				sb_init(&sb);
				list_params(&sb, params, np);
				lp_seterr("%s has no parameter '%s' (parameters: %s)", c->f->name,
					  first, sb_str(&sb));
				sb_free(&sb);
				return -EINVAL;
			}
			pp = (struct plan_param){params[j].name, params[j].type, false,
						 &c->ploc[j], !path};
			err = plan__add(c->pb, &pp, path, sp->args[i].name);
		}
	} else if (sp->args_mode != PA_NONE) {
		for (i = 0; i < np && !err; i++) {
			struct plan_param pp = {params[i].name, params[i].type, false, &c->ploc[i],
						true};

			err = plan__add(c->pb, &pp, NULL, NULL);
		}
	}
	for (i = 0; i < c->nr && !err && c->want_ret; i++) {
		struct plan_param pp = {params[np + i].name, params[np + i].type, true,
					&c->rloc[i], true};

		err = plan__add(c->pb, &pp, NULL, NULL);
	}
	if (err == -E2BIG) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s", lp_lasterr());
		lp_seterr("%s: %s", c->f->name, msg);
	}
	return err;
}

/* Stage: the entry site and every RET (checked), and the call sites when they can serve. */
static int stage_sites(struct compile *c)
{
	const struct gobin_func *f = c->f;
	int err;

	/* a corrupt function table must not be decoded into probe sites */
	err = binary__check_site(c->b, f->entry, f);
	if (err)
		return err;
	err = disasm__func(c->b->gb, f, &c->b->check, &c->d);
	if (err)
		return err;
	c->have_d = true;
	if (c->want_ret && c->d.ntails) {
		/* a call that leaves by a tail jump returns from the callee's RET, not ours */
		const struct gobin_func *t = gobin__func_at(c->b->gb, c->d.tail_target);
		char to[512];

		if (t && t->entry == c->d.tail_target)
			snprintf(to, sizeof(to), "%s", t->name);
		else
			snprintf(to, sizeof(to), "0x%lx", (unsigned long)c->d.tail_target);
		if (!c->d.nrets)
			lp_seterr("%s: ends by jumping to %s (a tail call) and has no RET of its "
				  "own; trace %s with ret = true",
				  f->name, to, to);
		else
			lp_seterr("%s: returns on some paths by jumping to %s (a tail call), where "
				  "its results and latency cannot be seen; trace it without ret, "
				  "or %s with ret = true",
				  f->name, to, to);
		return -EINVAL;
	}
	if (c->want_ret && !c->d.nrets) {
		lp_seterr("%s has no RET instruction in %s (it never returns normally); trace "
			  "it without ret",
			  f->name, c->b->path);
		return -EINVAL;
	}
	c->cs = wants_callsites(c->p, f, &c->d) ? binary__callsites(c->b, f->entry) : NULL;
	return check_sites(c->b, f, &c->d, c->cs, &c->use_cs);
}

/*
 * Stage: the parameters and results, from the sources in order (even with
 * args = false: predicates and aggregations may capture more); then what
 * no source gave.
 */
static int stage_signature(struct compile *c)
{
	const struct probe_spec *sp = c->sp;
	bool want_rets = sp->ret_mode != PR_NONE;
	size_t i;
	int err;

	for (i = 0; i < sizeof(sig_sources) / sizeof(sig_sources[0]); i++) {
		bool args = !c->args_from, rets = want_rets && !c->rets_from;

		if (!args && !rets)
			break;
		err = sig_sources[i].get(c, args, rets);
		if (err)
			return err;
		if ((args && c->args_from) || (rets && c->rets_from))
			pr_debug("%s: %s%s from %s\n", c->f->name,
				 args && c->args_from ? "arguments " : "",
				 rets && c->rets_from ? "results " : "", sig_sources[i].name);
	}
	if (!c->args_from && (sp->args_mode == PA_ALL || sp->args_mode == PA_NAMES)) {
		lp_seterr("%s: %s has no DWARF for it; declare the arguments with their types, "
			  "e.g. args = { {\"n\", \"int\"}, {\"s\", \"string\"} }",
			  c->f->name, c->b->path);
		return -ENOENT;
	}
	c->raw = !c->args_from && sp->args_mode == PA_DEFAULT;
	if (c->np + c->nr > MAX_PARAMS) {
		lp_seterr("%s: too many results declared", c->f->name);
		return -EINVAL;
	}
	memcpy(c->params + c->np, c->rets, c->nr * sizeof(*c->rets));
	if (sp->args_mode == PA_DECL)
		return declared_fit(c->f, c->params, c->np, sp->ret_mode == PR_DECL ? c->nr : 0,
				    c->go117);
	return 0;
}

/* Stage: where each argument and result lives, by the function's ABI. */
static int stage_abi(struct compile *c)
{
	const struct gotype *ptypes[MAX_PARAMS], *rtypes[MAX_PARAMS];
	size_t i;
	int err;

	for (i = 0; i < c->np; i++)
		ptypes[i] = c->params[i].type;
	for (i = 0; i < c->nr; i++)
		rtypes[i] = c->params[c->np + i].type;
	c->ploc = calloc(c->np + 1, sizeof(*c->ploc));
	c->rloc = calloc(c->nr + 1, sizeof(*c->rloc));
	if (!c->ploc || !c->rloc)
		return -ENOMEM;
	err = goabi__assign(c->regabi ? GOABI_REG : GOABI_STACK, ptypes, c->np, rtypes, c->nr,
			    c->ploc, c->rloc, &c->frame);
	if (err)
		return err;
	if (!c->regabi && c->rets_from && !c->args_from && c->sp->ret_mode == PR_DECL &&
	    c->f->args >= 0) {
		/* results follow the arguments: place them from the frame's total size */
		int32_t shift = 8 + c->f->args - (int32_t)c->frame.results_size;

		shift -= c->rloc[0].stack_off;

		for (i = 0; i < c->nr; i++)
			c->rloc[i].stack_off += shift;
	}
	return 0;
}

/* The predicate, compiled into the plan; its names may capture more (hidden). */
static int compile_where(struct compile *c)
{
	const struct probe_spec *sp = c->sp;
	struct planinfo tmp = {.func = c->f,
			       .pb = c->pb,
			       .params = c->params,
			       .np = c->np,
			       .nr = c->nr,
			       .ploc = c->ploc,
			       .rloc = c->rloc,
			       .want_ret = c->want_ret};
	struct pred_ctx pc = {
		.pb = c->pb, .has_ret = c->want_ret, .capture = pred_capture, .arg = &tmp};
	char msg[256] = "";
	int err = predicate__compile(sp->where, &pc, msg, sizeof(msg));

	if (err == -EINVAL && strstr(msg, "unknown name") && !gobin__info(c->b->gb)->has_dwarf &&
	    sp->args_mode != PA_DECL && sp->ret_mode != PR_DECL)
		lp_seterr("%s: %s (%s has no DWARF to name parameters and results: declare them, "
			  "e.g. args = { {\"n\", \"int\"} }, ret = { \"string\", \"error\" })",
			  c->f->name, msg, c->b->path);
	else if (err)
		lp_seterr("%s: %s", c->f->name, msg);
	return err;
}

/*
 * Stage: the values to capture, fitted into a plan, then the predicate. A
 * predicate that needs more room than the default capture left gets more
 * (twice, and again), the values being fitted again.
 */
static int stage_plan(struct compile *c)
{
	struct plan_opts popts = c->sp->popts;
	int err;

	popts.rt = &c->b->rt;
	for (;;) {
		c->pb = plan__new(&popts);
		if (!c->pb)
			return -ENOMEM;
		err = add_values(c);
		if (!err)
			err = plan__fit(c->pb);
		if (!err && c->sp->where)
			err = compile_where(c);
		if (err != -E2BIG || !plan__fitted(c->pb) || popts.reserve_ops * 2 > LP_MAX_OPS)
			return err;
		popts.reserve_ops =
			2 * (popts.reserve_ops ? popts.reserve_ops : PLAN_FIT_RESERVE_OPS);
		popts.reserve_bytes =
			2 * (popts.reserve_bytes ? popts.reserve_bytes : PLAN_FIT_RESERVE_BYTES);
		plan__free(c->pb);
		c->pb = NULL;
		lp_clearerr();
	}
}

/* The BPF plan's own fields: where g, the goroutine id and the stack are, and its flags. */
static int fill_bpf_plan(struct compile *c, struct lp_plan *bp)
{
	const struct binary *b = c->b;

	bp->probe = c->p->id;
	bp->gsrc = c->regabi ? LP_G_R14 : LP_G_TLS;
	bp->tls_off = b->tls_off;
	bp->goid_off = b->rt.g_goid;
	bp->m_off = b->rt.g_m;
	bp->curg_off = b->rt.m_curg;
	bp->stackhi_off = b->rt.g_stack_hi;
	/* a PIE's events carry its load bias, found from where the probe fires */
	if (gobin__info(b->gb)->pie && c->f->entry <= UINT32_MAX) {
		bp->flags |= LP_PF_PIE;
		bp->entry = c->f->entry;
	}
	if (c->want_ret) {
		bp->flags |= LP_PF_RET | LP_PF_PAIR;
		if (c->sp->separate)
			bp->flags |= LP_PF_ENTRY_EVENT;
	}
	if (c->sp->stack) {
		if (tracer__loaded(c->ps->tracer)) {
			lp_seterr("%s: stack = true on a probe created after attach(); create it "
				  "before",
				  c->sp->func);
			return -EINVAL;
		}
		bp->flags |= LP_PF_STACK;
	}
	if (c->p->within) {
		bp->flags |= LP_PF_WITHIN;
		bp->within = c->p->within->id;
	}
	if (c->p->scope)
		bp->flags |= LP_PF_SCOPE;
	return 0;
}

/*
 * Stage: a plan index for the function; its planinfo takes the plan and the
 * signature (the cleanup then frees neither), and the BPF plan is stored.
 */
static int stage_register(struct compile *c)
{
	struct planinfo *pi;
	uint32_t *plans;
	int err;

	c->idx = tracer__alloc_plan(c->ps->tracer);
	if (c->idx < 0)
		return c->idx;
	pi = new_planinfo(c->ps, c->idx);
	if (!pi)
		return -ENOMEM;
	*pi = (struct planinfo){.bin = c->b,
				.func = c->f,
				.raw = c->raw,
				.want_ret = c->want_ret,
				.nresults = c->want_ret ? c->nr : 0,
				.np = c->np,
				.nr = c->nr};
	pi->params = calloc(c->np + c->nr + 1, sizeof(*pi->params));
	plans = realloc(c->p->plans, (c->p->nplans + 1) * sizeof(*plans));
	if (plans)
		c->p->plans = plans;
	if (!pi->params || !plans) {
		free(pi->params);
		memset(pi, 0, sizeof(*pi));
		return -ENOMEM;
	}
	memcpy(pi->params, c->params, (c->np + c->nr) * sizeof(*c->params));
	pi->pb = c->pb;
	pi->ploc = c->ploc;
	pi->rloc = c->rloc;
	c->pb = NULL;
	c->ploc = c->rloc = NULL;
	c->pi = pi;
	err = fill_bpf_plan(c, plan__bpf(pi->pb));
	err = err ?: tracer__set_plan(c->ps->tracer, c->idx, plan__bpf(pi->pb));
	if (err)
		return err;
	c->p->plans[c->p->nplans++] = c->idx;
	pi->probe = c->p;
	return 0;
}

/* Stage: the attach points, at the call sites or the entry, and at every RET. */
static int stage_points(struct compile *c)
{
	const struct disasm_func *d = &c->d;
	const struct gobin_func *f = c->f;
	size_t i;
	int err = 0;

	if (c->use_cs) {
		/* every call of f is one of these emulated CALLs: no single-step */
		c->pi->tls_entry = !c->regabi;
		for (i = 0; !err && i < c->cs->nsites; i++)
			err = add_point(c->p, c->b, c->cs->sites[i],
					LP_COOKIE(c->idx, LP_SITE_CALL, 0, 0, 0), c->pid, f, false);
	} else {
		/* where the stack check just loaded g into a register, read it there */
		uint64_t cookie = LP_COOKIE_WITH_SITEOFF(
			LP_COOKIE(c->idx, d->site_kind, d->cc, d->cc_neg, 0),
			d->entry_site - f->entry);

		if (c->cs && !c->cs->eligible)
			pr_debug("%s: not probed at its call sites: %s\n", f->name, c->cs->why);
		if (d->site_kind == LP_SITE_JCC && d->g_reg >= 0 && !c->regabi)
			cookie = LP_COOKIE_WITH_GREG(cookie, d->g_reg + 1);
		else
			c->pi->tls_entry = !c->regabi;
		err = add_point(c->p, c->b, d->entry_site, cookie, c->pid, f, false);
	}
	c->pi->tls_rets = !c->regabi && d->nrets;
	/* RET sites are kept even without results: the probe may become a scope */
	for (i = 0; !err && i < d->nrets; i++)
		err = add_point(c->p, c->b, d->rets[i],
				LP_COOKIE_WITH_SITEOFF(LP_COOKIE(c->idx, LP_SITE_RET, 0, 0, 0),
						       d->rets[i] - f->entry),
				c->pid, f, true);
	if (!err && c->use_cs)
		pr_debug("%s: %zu call sites (emulated), %zu RET, %zu values\n", f->name,
			 c->cs->nsites, d->nrets, plan__values(c->pi->pb, &i) ? i : 0);
	else if (!err)
		pr_debug("%s: %s site 0x%lx%s, %zu RET, %zu values\n", f->name,
			 d->site_kind == LP_SITE_JCC ? "branch" : "entry",
			 (unsigned long)d->entry_site, d->emulated ? " (emulated)" : "", d->nrets,
			 plan__values(c->pi->pb, &i) ? i : 0);
	return err;
}

static int compile_func(struct probe_set *ps, struct probe *p, struct binary *b,
			const struct gobin_func *f, pid_t pid)
{
	const struct gobin_info *info = gobin__info(b->gb);
	struct compile *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	*c = (struct compile){.ps = ps,
			      .p = p,
			      .sp = &p->spec,
			      .b = b,
			      .f = f,
			      .pid = pid,
			      .regabi = info->regabi && !f->asm_abi0,
			      .go117 = info->go_minor >= 17,
			      .want_ret = p->spec.ret_mode != PR_NONE,
			      .idx = -1};
	err = stage_sites(c);
	err = err ?: stage_signature(c);
	err = err ?: stage_abi(c);
	err = err ?: stage_plan(c);
	err = err ?: stage_register(c);
	err = err ?: stage_points(c);

	if (err && c->pi && !c->pi->probe) {
		/* the plan slot stays allocated but unused: no probe points at it */
		plan__free(c->pi->pb);
		free(c->pi->params);
		free(c->pi->ploc);
		free(c->pi->rloc);
		memset(c->pi, 0, sizeof(*c->pi));
	}
	plan__free(c->pb);
	free(c->ploc);
	free(c->rloc);
	if (c->have_d)
		disasm__free(&c->d);
	free(c);
	return err;
}

static int resolve_funcs(struct probe_set *ps, struct probe *p, const char *path, pid_t pid);

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

int probe__scope_points(struct probe_set *ps, struct probe *p)
{
	size_t i, j, n = p->npoints;
	int err;

	for (i = 0; i < n; i++) {
		struct attach_point *ap = &p->points[i];
		struct binary *b = ap->bin;
		pid_t pid = ap->pid;

		if (ap->is_recover)
			continue;
		for (j = 0; j < p->npoints; j++)
			if (p->points[j].is_recover && p->points[j].bin == b &&
			    p->points[j].pid == pid)
				break;
		if (j < p->npoints)
			continue;
		err = binary__recovery(ps, b);
		if (!err)
			err = add_point(p, b, b->recover_site,
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
	int err = resolve_funcs(ps, p, path, pid);

	if (!err && p->scope)
		err = probe__scope_points(ps, p);
	return err;
}

static int resolve_funcs(struct probe_set *ps, struct probe *p, const char *path, pid_t pid)
{
	const struct probe_spec *sp = &p->spec;
	const struct gobin_func **funcs = NULL, *one;
	uint32_t limit = sp->limit ? sp->limit : DEFAULT_LIMIT;
	struct binary *b;
	size_t n, i, skipped = 0;
	char first[512] = "";
	bool normal;
	int err;

	err = probe_set__binary(ps, path, &b);
	if (err)
		return err;
	one = gobin__find_func(b->gb, sp->func);
	if (one && !strstr(sp->func, "[...]")) {
		/* other functions of the same name are ABI wrappers of this one */
		return compile_func(ps, p, b, one, pid);
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
			err = compile_func(ps, p, b, funcs[i], pid);
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
		err = compile_func(ps, p, b, funcs[i], pid);
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

static bool point_needed(const struct probe *p, const struct attach_point *ap)
{
	if (ap->is_recover)
		return p->scope;
	return !ap->is_ret || p->spec.ret_mode != PR_NONE || p->scope;
}

void probe__reset_pid(struct probe *p, pid_t pid, const struct binary *keep)
{
	size_t i, k;

	for (i = 0, k = 0; i < p->npoints; i++) {
		struct attach_point *ap = &p->points[i];

		if (ap->pid == pid && ap->bin != keep)
			continue;
		if (ap->pid == pid)
			ap->attached = false;
		p->points[k++] = *ap;
	}
	p->npoints = k;
}

int probe__attach(struct probe_set *ps, struct probe *p)
{
	uint64_t *offsets, *cookies;
	size_t i, j, n, *which;
	int err = 0;

	offsets = calloc(p->npoints + 1, sizeof(*offsets));
	cookies = calloc(p->npoints + 1, sizeof(*cookies));
	which = calloc(p->npoints + 1, sizeof(*which));
	if (!offsets || !cookies || !which) {
		err = -ENOMEM;
		goto out;
	}
	/* one link per binary and process, for the points not attached yet */
	for (i = 0; i < p->npoints && !err; i = j) {
		struct attach_point *first = &p->points[i];

		for (j = i, n = 0; j < p->npoints; j++) {
			struct attach_point *ap = &p->points[j];

			if (ap->bin != first->bin || ap->pid != first->pid)
				break;
			if (ap->attached || !point_needed(p, ap))
				continue;
			offsets[n] = ap->offset;
			cookies[n] = ap->cookie;
			which[n++] = j;
		}
		err = tracer__attach(ps->tracer, first->bin->path, offsets, cookies, n, first->pid);
		while (!err && n)
			p->points[which[--n]].attached = true;
	}
	if (!err)
		err = tracer__set_probe_enabled(ps->tracer, p->id, p->enabled);
out:
	free(offsets);
	free(cookies);
	free(which);
	return err;
}

int probe__update_plans(struct probe_set *ps, struct probe *p)
{
	size_t i;
	int err;

	for (i = 0; i < p->nplans; i++) {
		struct planinfo *pi = &ps->plans[p->plans[i]];
		struct lp_plan *bp = plan__bpf(pi->pb);

		bp->flags &= ~(LP_PF_NOEVENT | LP_PF_SCOPE);
		if (p->naggs && !p->has_handlers)
			bp->flags |= LP_PF_NOEVENT;
		if (p->scope)
			bp->flags |= LP_PF_SCOPE;
		if (bp->flags & LP_PF_NOEVENT) {
			struct lp_plan pruned = *bp;

			plan__prune(&pruned);
			err = tracer__set_plan(ps->tracer, p->plans[i], &pruned);
		} else {
			err = tracer__set_plan(ps->tracer, p->plans[i], bp);
		}
		if (err)
			return err;
	}
	return 0;
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
		int err = capture_hidden(pi, name);

		if (err == -E2BIG) {
			char msg[300];

			snprintf(msg, sizeof(msg), "%s", lp_lasterr());
			lp_seterr("%s: %s", pi->func->name, msg);
			return err;
		}
		if (!err)
			d = plan__resolve(pi->pb, name, &res);
	}
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

void probe_set__needs(const struct probe_set *ps, struct tracer_needs *needs)
{
	size_t i;

	memset(needs, 0, sizeof(*needs));
	for (i = 0; i < ps->nprobes; i++)
		needs->scopes |= ps->probes[i]->scope;
	for (i = 0; i < ps->plans_cap; i++) {
		const struct planinfo *pi = &ps->plans[i];
		uint32_t bytes;

		if (!pi->probe)
			continue;
		needs->stacks |= pi->probe->spec.stack;
		/* RET sites are attached for results, or while the probe is a scope */
		needs->tls |= pi->tls_entry || (pi->tls_rets && (pi->want_ret || pi->probe->scope));
		if (!pi->want_ret)
			continue;
		/* the call map keeps the entry record of each call in flight: say whose */
		needs->calls = true;
		bytes = plan__entry_bytes(pi->pb);
		if (bytes > needs->call_bytes || !needs->call_why[0]) {
			needs->call_bytes = bytes > needs->call_bytes ? bytes : needs->call_bytes;
			snprintf(needs->call_why, sizeof(needs->call_why), "%s with strcap %d",
				 pi->func->name, pi->probe->spec.popts.strcap);
		}
	}
}

void probe_spec__free(struct probe_spec *spec)
{
	size_t i;

	free(spec->func);
	free(spec->target);
	free(spec->where);
	for (i = 0; i < spec->nargs; i++) {
		free(spec->args[i].name);
		free(spec->args[i].type);
	}
	free(spec->args);
	for (i = 0; i < spec->nrets; i++) {
		free(spec->rets[i].name);
		free(spec->rets[i].type);
	}
	free(spec->rets);
	memset(spec, 0, sizeof(*spec));
}

void probe_set__free(struct probe_set *ps)
{
	struct binary *b, *next;
	size_t i;

	for (i = 0; i < ps->plans_cap; i++) {
		plan__free(ps->plans[i].pb);
		free(ps->plans[i].params);
		free(ps->plans[i].ploc);
		free(ps->plans[i].rloc);
	}
	free(ps->plans);
	for (i = 0; i < ps->nprobes; i++) {
		probe_spec__free(&ps->probes[i]->spec);
		free(ps->probes[i]->plans);
		free(ps->probes[i]->points);
		free(ps->probes[i]);
	}
	free(ps->probes);
	for (b = ps->bins; b; b = next) {
		next = b->next;
		binary__free(b);
	}
	memset(ps, 0, sizeof(*ps));
}
