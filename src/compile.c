// SPDX-License-Identifier: BSD-2-Clause
/*
 * The probe compiler: one function of a probe becomes a plan (the values to
 * capture, the predicate) and its attach points. See compile.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bounded.h"
#include "callsites.h"
#include "compile.h"
#include "disasm.h"
#include "goabi.h"
#include "log.h"
#include "predicate.h"
#include "rtype.h"
#include "signature.h"
#include "strbuf.h"

#define MAX_PARAMS    64
#define RAW_MAX_WORDS 10 /* as many as a Go traceback prints */

bool compile__wants_callsites(const struct probe *p, const struct gobin_func *f,
			      const struct disasm_func *d)
{
	return d->site_kind == LP_SITE_ENTRY && !d->emulated && !p->spec.stack &&
	       callsites__plain_func(f->name) && !getenv("LUPROBE_NO_CALLSITES");
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

/*
 * Split "r.URL.Path" into the parameter name and the path after it
 * ("m[\"k\"]": "m" and "[\"k\"]").
 */
static const char *split_path(const char *name, char *first, size_t len)
{
	size_t n = strcspn(name, ".[");

	if (n >= len)
		n = len - 1;
	memcpy(first, name, n);
	first[n] = '\0';
	if (!name[n])
		return NULL;
	return name[n] == '.' ? name + n + 1 : name + n;
}

/*
 * The named types of a declaration, as the binary describes them: DWARF
 * (its own or a debug file's), else its runtime type descriptors, else the
 * std table for its release. from: the source of the last one found, the
 * least precise when there are several.
 */
struct decl_types {
	struct binary *b;
	int rank; /* of from: 0 none, 1 DWARF, 2 runtime types, 3 std table */
	const char *from;
};

static void decl_from(struct decl_types *dt, int rank, const char *from)
{
	if (rank > dt->rank)
		dt->rank = rank, dt->from = from;
}

static const struct gotype *lookup_decl_type(void *ctx, const char *name)
{
	struct decl_types *dt = ctx;
	struct binary *b = dt->b;
	struct godwarf *dw = binary__dwarf(b);
	const struct gotype *t = dw ? godwarf__type(dw, name) : NULL;
	struct rtypes *rt;
	const struct rtype *r;
	struct sigsrc *ss;

	if (t) {
		decl_from(dt, 1, gobin__info(b->gb)->has_dwarf ? "DWARF" : "the debug file");
		return t;
	}
	rt = binary__rtypes(b);
	r = rt ? rtypes__lookup(rt, name) : NULL;
	t = r ? rtypes__gotype(rt, r, b->ts) : NULL;
	if (t) {
		decl_from(dt, 2, "runtime types");
		return t;
	}
	ss = binary__sigsrc(b);
	t = ss ? sigsrc__lookup(ss, name) : NULL;
	if (t)
		decl_from(dt, 3, "std table");
	return t;
}

/* Does the binary describe t (a struct it only names is opaque: no fields, no size)? */
static bool described(const struct gotype *t)
{
	while (t->kind == GK_PTR && t->elem)
		t = t->elem;
	return t->kind != GK_INVALID;
}

/*
 * One declared type; with a fallback ({name, type, fallback}), the fallback
 * when the binary does not describe type (its named type unknown or only
 * named). -v says which was used.
 */
static int declared_type(struct binary *b, const struct probe_arg *d, const char *fname,
			 const struct gotype **out, char *err, size_t errlen)
{
	struct decl_types dt = {.b = b};
	const char *pname = d->name ? d->name : d->type;
	int e = gotypes__parse(b->ts, d->type, lookup_decl_type, &dt, out, err, errlen);

	if (!d->fallback) {
		if (!e && dt.from)
			pr_debug("%s: %s: %s from %s\n", fname, pname, d->type, dt.from);
		return e;
	}
	if (!e && described(*out)) {
		pr_info("luprobe: %s: %s: %s from %s\n", fname, pname, d->type, dt.from);
		return 0;
	}
	pr_info("luprobe: %s: %s: %s does not describe %s; the declared fallback type is used\n",
		fname, pname, b->path, d->type);
	dt.rank = 0;
	return gotypes__parse(b->ts, d->fallback, lookup_decl_type, &dt, out, err, errlen);
}

/* The type of a type assertion in a field path: Go syntax, named types from the binary. */
static const struct gotype *parse_type(void *ctx, const char *text)
{
	struct decl_types dt = {.b = ctx};
	const struct gotype *t = NULL;
	char err[128];

	if (gotypes__parse(dt.b->ts, text, lookup_decl_type, &dt, &t, err, sizeof(err)))
		return NULL;
	return t;
}

/* Parse the declared parameters into goparams. */
static int declared(struct binary *b, const struct probe_arg *decl, size_t n, bool results,
		    const char *fname, struct goparam *out)
{
	char err[256];
	size_t i;

	for (i = 0; i < n; i++) {
		char name[32];

		if (declared_type(b, &decl[i], fname, &out[i].type, err, sizeof(err))) {
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
int compile__capture_hidden(struct planinfo *pi, const char *path)
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
	return compile__capture_hidden(arg, path);
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
		if (sp->ndecl > MAX_PARAMS) {
			lp_seterr("%s: too many arguments declared", c->f->name);
			return -EINVAL;
		}
		err = declared(c->b, sp->args, sp->ndecl, false, c->f->name, c->params);
		if (err)
			return err;
		c->np = sp->ndecl;
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

/*
 * A signature a source other than DWARF found (params then results), taken
 * only when it agrees with the binary: its size with the pclntab's argument
 * size, its arguments with the layout the binary records.
 */
static int take_found(struct compile *c, bool args, bool rets, const struct goparam *sp,
		      size_t n, const char *from)
{
	size_t i, na = 0;

	while (na < n && !sp[na].is_result)
		na++;
	if (!probe__dwarf_complete(c->f, sp, n, c->go117) ||
	    signature__check(c->b->gb, c->f, sp, na)) {
		pr_info("luprobe: %s: the signature from %s does not fit this binary; not used\n",
			c->f->name, from);
		return 0;
	}
	for (i = 0; args && i < na && c->np < MAX_PARAMS; i++)
		c->params[c->np++] = sp[i];
	if (args)
		c->args_from = from;
	for (i = na; rets && c->sp->ret_mode == PR_ALL && i < n && c->nr < MAX_PARAMS; i++)
		c->rets[c->nr++] = sp[i];
	if (rets && c->sp->ret_mode == PR_ALL)
		c->rets_from = from;
	return 0;
}

/*
 * The standard library's signature table (a std function or method, by the
 * binary's release), used only when it agrees with the binary: its size
 * with the pclntab's argument size, its arguments with the recorded layout.
 */
static int sig_std(struct compile *c, bool args, bool rets)
{
	struct sigsrc *ss = binary__sigsrc(c->b);
	struct goparam sp[MAX_PARAMS];
	int n = ss ? sigsrc__std(ss, c->f, sp, MAX_PARAMS) : -ENOMEM;

	if (n < 0)
		return n == -ENOMEM ? n : 0;
	return take_found(c, args, rets, sp, (size_t)n, "std table");
}

/*
 * The binary's runtime type descriptors: a method that a method table or
 * an itab names, its receiver and parameters typed but unnamed (a0, ...),
 * used only when they agree with the binary, as the std table's.
 */
static int sig_rtype(struct compile *c, bool args, bool rets)
{
	struct sigsrc *ss = binary__sigsrc(c->b);
	struct rtypes *rt = binary__rtypes(c->b);
	struct goparam sp[MAX_PARAMS];
	int n = ss && rt ? sigsrc__rtype(ss, rt, c->f, sp, MAX_PARAMS) : -ENOENT;

	if (n < 0)
		return n == -ENOMEM ? n : 0;
	return take_found(c, args, rets, sp, (size_t)n, "runtime types");
}

static const struct sig_source {
	const char *name;
	int (*get)(struct compile *c, bool args, bool rets);
} sig_sources[] = {
	{"the script's declarations", sig_script},
	{"DWARF", sig_dwarf},
	{"std table", sig_std},
	{"runtime types", sig_rtype},
};

int compile__signature(struct binary *b, const struct gobin_func *f, struct goparam *out,
		       size_t max, const char **from)
{
	struct probe_spec sp = {.args_mode = PA_DEFAULT, .ret_mode = PR_ALL};
	struct compile *c = calloc(1, sizeof(*c));
	size_t i;
	int err = 0, n;

	if (!c)
		return -ENOMEM;
	*c = (struct compile){.sp = &sp, .b = b, .f = f,
			      .go117 = gobin__info(b->gb)->go_minor >= 17};
	/* the binary's own sources, the script's declarations aside */
	for (i = 1; i < sizeof(sig_sources) / sizeof(sig_sources[0]) && !c->args_from; i++) {
		c->nr = 0;
		err = sig_sources[i].get(c, true, true);
		if (err)
			break;
	}
	*from = c->args_from;
	n = err ? err : !c->args_from ? -ENOENT : (int)(c->np + c->nr);
	if (n > 0 && (size_t)n > max)
		n = -E2BIG;
	if (n > 0) {
		memcpy(out, c->params, c->np * sizeof(*out));
		memcpy(out + c->np, c->rets, c->nr * sizeof(*out));
	}
	free(c);
	return n;
}

/* b[:n]: an argument's memory read at return, bounded by a result (bounded.h). */
static int add_bounded(struct compile *c, const char *expr)
{
	struct bounded_sig sig = {.func = c->f->name,
				  .params = c->params,
				  .np = c->np,
				  .nr = c->nr,
				  .ploc = c->ploc,
				  .rloc = c->rloc,
				  .want_ret = c->want_ret,
				  .separate = c->sp->separate};

	return bounded__add(c->pb, &sig, expr);
}

/* The parameters and field paths a probe names (args = { "n", "r.URL.Path" }). */
static int add_named(struct compile *c, const struct probe_arg *names, size_t n)
{
	const struct goparam *params = c->params;
	size_t i, j, np = c->np;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		char first[128];
		const char *path = split_path(names[i].name, first, sizeof(first));
		struct plan_param pp;

		for (j = 0; j < np; j++)
			if (strcmp(params[j].name, first) == 0)
				break;
		if (j == np) {
			struct strbuf sb;

			sb_init(&sb);
			list_params(&sb, params, np);
			lp_seterr("%s has no parameter '%s' (parameters: %s)", c->f->name, first,
				  sb_str(&sb));
			sb_free(&sb);
			return -EINVAL;
		}
		pp = (struct plan_param){params[j].name, params[j].type, false, &c->ploc[j], !path};
		err = plan__add(c->pb, &pp, path, names[i].name);
	}
	return err;
}

/*
 * The values a probe shows: raw argument words, the parameters it names, or
 * all of them, and the results. Whole parameters and results are best
 * effort (plan__fit); a field path is captured in full or is an error.
 * Declared parameters that the list also names are shown only as named.
 */
static int add_values(struct compile *c)
{
	const struct probe_spec *sp = c->sp;
	const struct goparam *params = c->params;
	size_t i, np = c->np;
	int err = 0;

	if (c->raw) {
		err = add_raw(c->pb, &c->d, c->b->gb, c->f, c->regabi);
	} else if (sp->args_mode == PA_NAMES ||
		   (sp->args_mode == PA_DECL && sp->nargs > sp->ndecl)) {
		err = add_named(c, sp->args + sp->ndecl, sp->nargs - sp->ndecl);
	} else if (sp->args_mode != PA_NONE) {
		for (i = 0; i < np && !err; i++) {
			struct plan_param pp = {params[i].name, params[i].type, false, &c->ploc[i],
						true};

			err = plan__add(c->pb, &pp, NULL, NULL);
		}
	}
	for (i = 0; i < sp->nbounded && !err; i++)
		err = add_bounded(c, sp->bounded[i]);
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
	c->cs = compile__wants_callsites(c->p, f, &c->d) ? binary__callsites(c->b, f->entry) : NULL;
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
		args = args && c->args_from;
		rets = rets && c->rets_from;
		if (args || rets)
			pr_debug("%s: %s%s%s from %s\n", c->f->name, args ? "arguments" : "",
				 args && rets ? " and " : "", rets ? "results" : "",
				 sig_sources[i].name);
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
	if (sp->args_mode != PA_DECL)
		return 0;
	/* more than its arguments, or what the binary's own record of them contradicts */
	err = declared_fit(c->f, c->params, c->np, sp->ret_mode == PR_DECL ? c->nr : 0, c->go117);
	return err ?: signature__check(c->b->gb, c->f, c->params, c->np);
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
	popts.parse_type = parse_type;
	popts.parse_ctx = c->b;
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
		if (c->p->spawned)
			bp->flags |= LP_PF_SPAWNED;
	}
	if (c->p->scope)
		bp->flags |= LP_PF_SCOPE;
	if (c->p->scope_spawn)
		bp->flags |= LP_PF_SCOPE_SPAWN;
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
	pi = probe_set__new_planinfo(c->ps, c->idx);
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
			err = probe__add_point(c->p, c->b, c->cs->sites[i],
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
		err = probe__add_point(c->p, c->b, d->entry_site, cookie, c->pid, f, false);
	}
	c->pi->tls_rets = !c->regabi && d->nrets;
	/* RET sites are kept even without results: the probe may become a scope */
	for (i = 0; !err && i < d->nrets; i++)
		err = probe__add_point(c->p, c->b, d->rets[i],
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

int compile__func(struct probe_set *ps, struct probe *p, struct binary *b,
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
