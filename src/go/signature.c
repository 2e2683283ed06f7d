// SPDX-License-Identifier: BSD-2-Clause
/* Signature sources other than DWARF (signature.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "rtype.h"
#include "signature.h"
#include "stdsig.h"

struct sigsrc {
	struct gotypes *ts;
	int go_minor;
	struct stdsig_types *std;
	gotype_lookup_fn lookup;
	void *ctx;
};

const char *sig_origin__name(enum sig_origin src)
{
	static const char *const names[] = {
		[SIG_NONE] = "none",	       [SIG_DECLARED] = "declared", [SIG_DWARF] = "DWARF",
		[SIG_DEBUGFILE] = "debug file", [SIG_STD] = "std table",    [SIG_RTYPE] = "runtime types",
		[SIG_LAYOUT] = "layout only",
	};

	return src <= SIG_LAYOUT ? names[src] : "?";
}

struct sigsrc *sigsrc__new(struct gotypes *ts, int go_minor, gotype_lookup_fn lookup, void *ctx)
{
	struct sigsrc *ss = calloc(1, sizeof(*ss));

	if (!ss)
		return NULL;
	ss->ts = ts;
	ss->go_minor = go_minor;
	ss->lookup = lookup;
	ss->ctx = ctx;
	return ss;
}

void sigsrc__free(struct sigsrc *ss)
{
	if (!ss)
		return;
	stdsig_types__free(ss->std);
	free(ss);
}

/* One table entry as a goparam; the receiver of a ptr_wrapper becomes a pointer. */
static int std_param(struct sigsrc *ss, const struct stdsig_param *sp, bool result, size_t k,
		     bool ptr, struct goparam *out)
{
	const struct gotype *t;
	char name[32], err[160];

	if (gotypes__parse(ss->ts, sp->type, stdsig_types__lookup, ss->std, &t, err, sizeof(err))) {
		pr_debug("std table: type %s: %s\n", sp->type, err);
		return -EINVAL;
	}
	if (ptr)
		t = gotypes__ptr_to(ss->ts, t);
	/* a value whose layout is unknown for this release cannot be placed */
	if (!t || t->kind == GK_INVALID)
		return -EINVAL;
	if (sp->name && strcmp(sp->name, "_") != 0)
		snprintf(name, sizeof(name), "%s", sp->name);
	else
		snprintf(name, sizeof(name), "~%c%zu", result ? 'r' : 'p', k);
	out->name = gotypes__strdup(ss->ts, name);
	out->type = t;
	out->is_result = result;
	return out->name ? 0 : -ENOMEM;
}

/* The std table's named types for this binary, made on first use. */
static struct stdsig_types *std_types(struct sigsrc *ss)
{
	if (!ss->std) {
		ss->std = stdsig_types__new(ss->ts);
		if (ss->std)
			stdsig_types__for(ss->std, ss->go_minor, ss->lookup, ss->ctx);
	}
	return ss->std;
}

const struct gotype *sigsrc__lookup(void *ctx, const char *name)
{
	struct sigsrc *ss = ctx;
	struct stdsig_types *st = std_types(ss);

	/* stdsig_types__lookup asks the binary's own lookup first */
	return st ? stdsig_types__lookup(st, name) : ss->lookup ? ss->lookup(ss->ctx, name) : NULL;
}

int sigsrc__std(struct sigsrc *ss, const struct gobin_func *f, struct goparam *out, size_t max)
{
	struct stdsig *s;
	size_t i, n = 0;
	int err;

	if (!std_types(ss))
		return -ENOENT;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = stdsig__lookup(f->name, ss->go_minor, s);
	if (!err && s->generic)
		err = -ENOENT;
	if (!err && s->nparams + s->nresults > max)
		err = -E2BIG;
	for (i = 0; !err && i < s->nparams; i++)
		err = std_param(ss, &s->params[i], false, i, i == 0 && s->ptr_wrapper, &out[n++]);
	for (i = 0; !err && i < s->nresults; i++)
		err = std_param(ss, &s->results[i], true, i, false, &out[n++]);
	free(s);
	return err ? err : (int)n;
}

static int rtype_param(struct sigsrc *ss, struct rtypes *rt, const struct rtype *r, bool ptr,
		       bool result, size_t k, struct goparam *out)
{
	const struct gotype *t = r ? rtypes__gotype(rt, r, ss->ts) : NULL;
	char name[32];

	if (t && ptr)
		t = gotypes__ptr_to(ss->ts, t);
	if (!t || t->kind == GK_INVALID)
		return -EINVAL;
	snprintf(name, sizeof(name), result ? "~r%zu" : "a%zu", k);
	out->name = gotypes__strdup(ss->ts, name);
	out->type = t;
	out->is_result = result;
	return out->name ? 0 : -ENOMEM;
}

int sigsrc__rtype(struct sigsrc *ss, struct rtypes *rt, const struct gobin_func *f,
		  struct goparam *out, size_t max)
{
	struct rtype_sig sig;
	size_t i, n = 0;
	int err = rtypes__func_params(rt, f->entry, &sig);

	if (err)
		return err;
	if (!sig.func || !sig.recv)
		return -ENOENT;
	if (1 + sig.func->nin + sig.func->nout > max)
		return -E2BIG;
	err = rtype_param(ss, rt, sig.recv, sig.recv_ptr, false, 0, &out[n++]);
	for (i = 0; !err && i < sig.func->nin; i++)
		err = rtype_param(ss, rt, sig.func->in[i], false, false, i + 1, &out[n++]);
	for (i = 0; !err && i < sig.func->nout; i++)
		err = rtype_param(ss, rt, sig.func->out[i], false, true, i, &out[n++]);
	return err ? err : (int)n;
}

/*
 * ArgInfo tokens (runtime/traceback.go printArgs): a word is (offset,
 * size); 0xfe starts an aggregate, 0xfd ends one, 0xfc says "more", 0xfb an
 * offset too large to record, 0xff ends the record.
 */
enum { AI_END = 0xff, AI_START = 0xfe, AI_STOP = 0xfd, AI_MORE = 0xfc, AI_BIG = 0xfb };
#define AI_LIMIT     10 /* words recorded at most (cmd/compile: traceArgsLimit) */
#define AI_MAX_DEPTH 5	/* aggregate nesting recorded (traceArgsMaxDepth) */
#define AI_BUF	     256

/* The record's shape: sizes of the words, braces, "more"; no offsets. */
struct shape {
	uint8_t tok[AI_BUF];
	size_t n;
	int words; /* words written, for AI_LIMIT */
	bool full;
};

static void put(struct shape *s, uint8_t t)
{
	if (s->n < AI_BUF)
		s->tok[s->n++] = t;
	else
		s->full = true;
}

static bool is_aggregate(const struct gotype *t)
{
	switch (t->kind) {
	case GK_STRING:
	case GK_SLICE:
	case GK_IFACE:
	case GK_EFACE:
	case GK_COMPLEX:
	case GK_ARRAY:
	case GK_STRUCT:
		return true;
	default:
		return false;
	}
}

/* One word of size bytes; false once the record is full (cmd/compile's visitType). */
static bool word(struct shape *s, uint64_t size)
{
	if (s->words >= AI_LIMIT) {
		put(s, AI_MORE);
		return false;
	}
	put(s, (uint8_t)size);
	s->words++;
	return true;
}

static bool visit(struct shape *s, const struct gotype *t, int depth)
{
	size_t i;
	uint64_t k;
	bool ok = true;

	if (s->words >= AI_LIMIT) {
		put(s, AI_MORE);
		return false;
	}
	if (!is_aggregate(t))
		return word(s, t->size);
	put(s, AI_START);
	if (++depth >= AI_MAX_DEPTH) {
		put(s, AI_MORE);
		put(s, AI_STOP);
		s->words++;
		return true;
	}
	switch (t->kind) {
	case GK_STRING:
	case GK_IFACE:
	case GK_EFACE:
		ok = word(s, 8) && word(s, 8);
		break;
	case GK_SLICE:
		ok = word(s, 8) && word(s, 8) && word(s, 8);
		break;
	case GK_COMPLEX:
		ok = word(s, t->size / 2) && word(s, t->size / 2);
		break;
	case GK_ARRAY:
		if (!t->len)
			s->words++;
		for (k = 0; k < t->len && t->elem && ok; k++)
			ok = visit(s, t->elem, depth);
		break;
	default: /* GK_STRUCT */
		if (!t->nfields)
			s->words++;
		for (i = 0; i < t->nfields && ok; i++)
			ok = visit(s, t->fields[i].type, depth);
		break;
	}
	put(s, AI_STOP);
	return true;
}

/* The recorded shape of f; 0 if none is recorded. */
static int recorded(const struct gobin *gb, const struct gobin_func *f, struct shape *s)
{
	uint8_t info[AI_BUF];
	int n = gobin__arginfo(gb, f, info, sizeof(info)), i;

	memset(s, 0, sizeof(*s));
	if (n <= 0)
		return n == -ENOENT ? 0 : n;
	for (i = 0; i < n && info[i] != AI_END; i++) {
		if (info[i] == AI_START || info[i] == AI_STOP || info[i] == AI_MORE) {
			put(s, info[i]);
		} else if (info[i] == AI_BIG) {
			put(s, 8);
		} else if (i + 1 < n) {
			put(s, info[++i]); /* (offset, size): the size */
		}
	}
	return s->n ? 1 : 0;
}

/* An aggregate of one word is laid out as that word: "{a0}" matches "a0". */
static void normalize(struct shape *s)
{
	size_t i, k = 0;

	for (i = 0; i < s->n; i++) {
		if (s->tok[i] == AI_START && i + 2 < s->n && s->tok[i + 1] < AI_BIG &&
		    s->tok[i + 2] == AI_STOP) {
			s->tok[k++] = s->tok[i + 1];
			i += 2;
			continue;
		}
		s->tok[k++] = s->tok[i];
	}
	s->n = k;
}

static void render(const struct shape *s, char *buf, size_t len)
{
	size_t i, k = 0, w = 0;
	bool sep = false;

	k += snprintf(buf + k, k < len ? len - k : 0, "(");
	for (i = 0; i < s->n; i++) {
		uint8_t t = s->tok[i];

		if (t == AI_STOP) {
			k += snprintf(buf + k, k < len ? len - k : 0, "}");
			sep = true;
			continue;
		}
		k += snprintf(buf + k, k < len ? len - k : 0, "%s", sep ? ", " : "");
		sep = t != AI_START;
		if (t == AI_START)
			k += snprintf(buf + k, k < len ? len - k : 0, "{");
		else if (t == AI_MORE)
			k += snprintf(buf + k, k < len ? len - k : 0, "...");
		else if (t == 8)
			k += snprintf(buf + k, k < len ? len - k : 0, "a%zu", w++);
		else
			k += snprintf(buf + k, k < len ? len - k : 0, "a%zu:%u", w++, t);
	}
	snprintf(buf + k, k < len ? len - k : 0, ")");
}

int signature__layout(const struct gobin *gb, const struct gobin_func *f, char *buf, size_t len)
{
	struct shape s;
	int err = recorded(gb, f, &s);

	if (err <= 0)
		return err;
	render(&s, buf, len);
	return (int)strlen(buf);
}

int signature__check(const struct gobin *gb, const struct gobin_func *f,
		     const struct goparam *params, size_t n)
{
	struct shape rec, decl;
	char lay[512], dec[512];
	size_t i, k = 0, m;
	int err = recorded(gb, f, &rec);

	if (err <= 0)
		return err;
	memset(&decl, 0, sizeof(decl));
	for (i = 0; i < n; i++) {
		/* the record leaves out a generic function's dictionary */
		if (params[i].name && strcmp(params[i].name, ".dict") == 0)
			continue;
		if (!visit(&decl, params[i].type, 0))
			break;
	}
	render(&rec, lay, sizeof(lay));
	normalize(&rec);
	normalize(&decl);
	/* compare up to where the record stops */
	m = rec.n;
	for (i = 0; i < rec.n; i++)
		if (rec.tok[i] == AI_MORE) {
			m = i;
			break;
		}
	/* the first parameters may be declared alone; more than recorded may not */
	if (rec.full || decl.full ||
	    ((decl.n <= m || m < rec.n) && memcmp(rec.tok, decl.tok, decl.n < m ? decl.n : m) == 0))
		return 0;
	for (i = 0; i < n; i++)
		k += snprintf(dec + k, k < sizeof(dec) ? sizeof(dec) - k : 0, "%s%s %s",
			      i ? ", " : "", params[i].name, params[i].type->name);
	lp_seterr("%s: the arguments declared (%s) do not fit its argument layout %s (the "
		  "binary's traceback record: braces are strings, slices, interfaces and "
		  "structs; sizes other than 8 bytes after a colon); declare its parameters in "
		  "order with their types",
		  f->name, dec, lay);
	return -EINVAL;
}
