// SPDX-License-Identifier: BSD-2-Clause
/*
 * The where= language:
 *
 *   expr  := and { ("or" | "||") and }
 *   and   := unary { ("and" | "&&") unary }
 *   unary := ("not" | "!") unary | cmp
 *   cmp   := term [ ("==" | "!=" | "~=" | "<" | "<=" | ">" | ">=") term ]
 *   term  := NAME | INT | STRING | nil | true | false | latency
 *          | len(NAME) | prefix(NAME, STRING) | "(" expr ")"
 *
 * NAME is a parameter, a result or a field path; failing those, pid, tid,
 * goid (integers) or comm (the thread's name, a string) name who made the
 * call, as in bpftrace.
 *
 * It is parsed into a small tree, names are resolved against what the plan
 * captures (capturing more, hidden, when needed), then compiled into plan
 * ops that leave 0 or 1 in a temporary and drop the call on 0.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "predicate.h"

#define MAX_NODES 128
#define MAX_DEPTH 32
#define MAX_STR	  64 /* longest string constant */

enum nkind {
	N_OR,
	N_AND,
	N_NOT,
	N_CMP,
	N_NAME,
	N_INT,
	N_STR,
	N_NIL,
	N_BOOL,
	N_LEN,
	N_PREFIX,
	N_LATENCY,
};

struct node {
	enum nkind k;
	int col;
	int op; /* N_CMP: enum lp_cmp (signed form) */
	struct node *a, *b;
	char name[128];
	int64_t ival;
	char sval[MAX_STR + 1];
	size_t slen;
	/* after resolution */
	const struct dnode *dn;
	bool is_result;
	int ctx; /* pid, tid, goid, comm: LP_REG_PID, ... LP_REG_COMM0; else 0 */
};

struct parser {
	const char *src, *p;
	struct node nodes[MAX_NODES];
	int nnodes;
	int depth;
	char *err;
	size_t errlen;
	bool failed;
};

static int col_of(struct parser *ps, const char *at)
{
	return (int)(at - ps->src) + 1;
}

static void perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "where: %s at column %d", msg, col_of(ps, at));
}

static struct node *new_node(struct parser *ps, enum nkind k, const char *at)
{
	struct node *n;

	if (ps->nnodes == MAX_NODES) {
		perr(ps, at, "expression too long");
		return NULL;
	}
	n = &ps->nodes[ps->nnodes++];
	memset(n, 0, sizeof(*n));
	n->k = k;
	n->col = col_of(ps, at);
	return n;
}

static void skip_space(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static bool word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	skip_space(ps);
	if (strncmp(ps->p, w, n) == 0 && !isalnum((unsigned char)ps->p[n]) && ps->p[n] != '_') {
		ps->p += n;
		return true;
	}
	return false;
}

static bool sym(struct parser *ps, const char *s)
{
	size_t n = strlen(s);

	skip_space(ps);
	if (strncmp(ps->p, s, n) == 0) {
		ps->p += n;
		return true;
	}
	return false;
}

static struct node *parse_expr(struct parser *ps);

static bool is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '~';
}

static struct node *parse_name(struct parser *ps)
{
	const char *start = ps->p;
	struct node *n;
	size_t len;

	while (is_name_char((unsigned char)*ps->p))
		ps->p++;
	len = ps->p - start;
	if (!len || start[len - 1] == '.') {
		perr(ps, start, "expected a name");
		return NULL;
	}
	n = new_node(ps, N_NAME, start);
	if (!n)
		return NULL;
	if (len >= sizeof(n->name)) {
		perr(ps, start, "name too long");
		return NULL;
	}
	memcpy(n->name, start, len);
	return n;
}

static struct node *parse_string(struct parser *ps)
{
	const char *start = ps->p;
	char quote = *ps->p++;
	struct node *n = new_node(ps, N_STR, start);

	if (!n)
		return NULL;
	while (*ps->p && *ps->p != quote) {
		char c = *ps->p++;

		if (c == '\\') {
			/* a backslash at the very end: unterminated; stay in bounds */
			if (!*ps->p)
				break;
			c = *ps->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case '0':
				c = '\0';
				break;
			case '\\':
			case '"':
			case '\'':
				break;
			case 'x': {
				char hex[3] = {0};

				if (!isxdigit((unsigned char)ps->p[0]) ||
				    !isxdigit((unsigned char)ps->p[1])) {
					perr(ps, ps->p - 2, "bad \\x escape");
					return NULL;
				}
				hex[0] = ps->p[0];
				hex[1] = ps->p[1];
				ps->p += 2;
				c = (char)strtol(hex, NULL, 16);
				break;
			}
			default:
				perr(ps, ps->p - 2, "unknown escape \\%c", c ? c : '0');
				return NULL;
			}
		}
		if (n->slen == MAX_STR) {
			perr(ps, start, "string longer than %d bytes", MAX_STR);
			return NULL;
		}
		n->sval[n->slen++] = c;
	}
	if (*ps->p != quote) {
		perr(ps, start, "unterminated string");
		return NULL;
	}
	ps->p++;
	return n;
}

static struct node *parse_term(struct parser *ps)
{
	const char *at;
	struct node *n;

	skip_space(ps);
	at = ps->p;
	if (sym(ps, "(")) {
		n = parse_expr(ps);
		if (n && !sym(ps, ")"))
			perr(ps, ps->p, "expected ')'");
		return n;
	}
	if (*at == '"' || *at == '\'')
		return parse_string(ps);
	if (isdigit((unsigned char)*at) || (*at == '-' && isdigit((unsigned char)at[1]))) {
		char *end;

		errno = 0;
		n = new_node(ps, N_INT, at);
		if (!n)
			return NULL;
		if (*at == '-')
			n->ival = strtoll(at, &end, 0);
		else
			n->ival = (int64_t)strtoull(at, &end, 0);
		if (errno || is_name_char((unsigned char)*end)) {
			perr(ps, at, "bad number");
			return NULL;
		}
		ps->p = end;
		return n;
	}
	if (word(ps, "nil"))
		return new_node(ps, N_NIL, at);
	if (word(ps, "true") || word(ps, "false")) {
		n = new_node(ps, N_BOOL, at);
		if (n)
			n->ival = *at == 't';
		return n;
	}
	if (word(ps, "len")) {
		n = new_node(ps, N_LEN, at);
		if (!n)
			return NULL;
		if (!sym(ps, "(")) {
			perr(ps, ps->p, "expected '(' after len");
			return NULL;
		}
		skip_space(ps);
		n->a = parse_name(ps);
		if (n->a && !sym(ps, ")"))
			perr(ps, ps->p, "expected ')'");
		return n;
	}
	if (word(ps, "prefix")) {
		n = new_node(ps, N_PREFIX, at);
		if (!n)
			return NULL;
		if (!sym(ps, "(")) {
			perr(ps, ps->p, "expected '(' after prefix");
			return NULL;
		}
		skip_space(ps);
		n->a = parse_name(ps);
		if (n->a && !sym(ps, ","))
			perr(ps, ps->p, "expected ','");
		skip_space(ps);
		if (!ps->failed && *ps->p != '"' && *ps->p != '\'')
			perr(ps, ps->p, "expected a string");
		if (!ps->failed)
			n->b = parse_string(ps);
		if (!ps->failed && !sym(ps, ")"))
			perr(ps, ps->p, "expected ')'");
		return n;
	}
	if (word(ps, "latency"))
		return new_node(ps, N_LATENCY, at);
	if (isalpha((unsigned char)*at) || *at == '_' || *at == '~')
		return parse_name(ps);
	if (!*at)
		perr(ps, at, "unexpected end of expression");
	else
		perr(ps, at, "unexpected '%c'", *at);
	return NULL;
}

static struct node *parse_cmp(struct parser *ps)
{
	static const struct {
		const char *s;
		int op;
	} ops[] = {
		{"==", LP_CMP_EQ}, {"!=", LP_CMP_NE}, {"~=", LP_CMP_NE}, {"<=", LP_CMP_LE},
		{">=", LP_CMP_GE}, {"<", LP_CMP_LT},  {">", LP_CMP_GT},
	};
	struct node *l = parse_term(ps), *n;
	const char *at;
	size_t i;

	if (!l)
		return NULL;
	skip_space(ps);
	at = ps->p;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (sym(ps, ops[i].s)) {
			n = new_node(ps, N_CMP, at);
			if (!n)
				return NULL;
			n->op = ops[i].op;
			n->a = l;
			n->b = parse_term(ps);
			return n->b ? n : NULL;
		}
	}
	return l;
}

static struct node *parse_unary(struct parser *ps)
{
	const char *at;
	struct node *n;

	skip_space(ps);
	at = ps->p;
	if (word(ps, "not") || (ps->p[0] == '!' && ps->p[1] != '=' && sym(ps, "!"))) {
		if (++ps->depth > MAX_DEPTH) {
			perr(ps, at, "expression nested too deeply");
			return NULL;
		}
		n = new_node(ps, N_NOT, at);
		if (n)
			n->a = parse_unary(ps);
		ps->depth--;
		return n && n->a ? n : NULL;
	}
	return parse_cmp(ps);
}

static struct node *parse_binary(struct parser *ps, bool is_or)
{
	struct node *l, *n;
	const char *at;

	if (++ps->depth > MAX_DEPTH) {
		perr(ps, ps->p, "expression nested too deeply");
		return NULL;
	}
	l = is_or ? parse_binary(ps, false) : parse_unary(ps);
	while (l && !ps->failed) {
		skip_space(ps);
		at = ps->p;
		if (is_or ? (word(ps, "or") || sym(ps, "||"))
			  : (word(ps, "and") || sym(ps, "&&"))) {
			n = new_node(ps, is_or ? N_OR : N_AND, at);
			if (!n)
				break;
			n->a = l;
			n->b = is_or ? parse_binary(ps, false) : parse_unary(ps);
			l = n->b ? n : NULL;
		} else {
			break;
		}
	}
	ps->depth--;
	return l;
}

static struct node *parse_expr(struct parser *ps)
{
	return parse_binary(ps, true);
}

static struct node *parse(struct parser *ps, const char *expr, char *err, size_t errlen)
{
	struct node *root;

	memset(ps, 0, sizeof(*ps));
	ps->src = ps->p = expr;
	ps->err = err;
	ps->errlen = errlen;
	root = parse_expr(ps);
	skip_space(ps);
	if (root && !ps->failed && *ps->p)
		perr(ps, ps->p, "unexpected '%c'", *ps->p);
	return ps->failed ? NULL : root;
}

int predicate__check(const char *expr, char *err, size_t errlen)
{
	static struct parser ps;

	return parse(&ps, expr, err, errlen) ? 0 : -EINVAL;
}

/* ---- name resolution ---- */

struct gen {
	struct pred_ctx *c;
	struct parser *ps;
	bool ret;
	int ntmp;
	bool failed;
	bool room; /* failed for lack of room in the plan */
	bool ctx;  /* reads pid, tid, goid or comm */
};

static int gerr(struct gen *g, const struct node *n, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (g->failed)
		return -1;
	g->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(g->ps->err, g->ps->errlen, "where: %s at column %d", msg, n->col);
	return -1;
}

/*
 * `err` names Go's conventional last result when it is an error; with
 * `capture`, captured again (hidden) if the probe's own capture of it left
 * something out.
 */
static const struct dnode *last_error(struct pred_ctx *c, bool capture, bool *is_result)
{
	const struct plan_value *vals, *last = NULL;
	const struct dnode *d;
	char name[128];
	size_t n, i;

	vals = plan__values(c->pb, &n);
	for (i = 0; i < n; i++)
		if (vals[i].is_result && !vals[i].hidden)
			last = &vals[i];
	if (!last || !gotype__is_error(last->root.type))
		return NULL;
	snprintf(name, sizeof(name), "%s", last->name); /* capturing moves the values */
	d = plan__resolve(c->pb, name, is_result);
	if (!d && capture && c->capture && c->capture(c->arg, name) == 0)
		d = plan__resolve(c->pb, name, is_result);
	return d;
}

/* pid, tid, goid, comm: who made the call (a pseudo-register), 0 for another name */
static int ctx_reg(const char *name)
{
	static const struct {
		const char *name;
		int reg;
	} ctx[] = {{"pid", LP_REG_PID},
		   {"tid", LP_REG_TID},
		   {"goid", LP_REG_GOID},
		   {"comm", LP_REG_COMM0}};
	size_t i;

	for (i = 0; i < sizeof(ctx) / sizeof(ctx[0]); i++)
		if (!strcmp(name, ctx[i].name))
			return ctx[i].reg;
	return 0;
}

static int resolve(struct gen *g, struct node *n)
{
	if (!n)
		return 0;
	if (n->k == N_NAME) {
		int err = 0;

		n->dn = plan__resolve(g->c->pb, n->name, &n->is_result);
		if (!n->dn && g->c->capture) {
			err = g->c->capture(g->c->arg, n->name);
			if (!err)
				n->dn = plan__resolve(g->c->pb, n->name, &n->is_result);
		}
		if (err == -E2BIG) {
			g->room = true;
			return gerr(g, n, "%s", lp_lasterr());
		}
		if (!n->dn && !strcmp(n->name, "err"))
			n->dn = last_error(g->c, true, &n->is_result);
		if (!n->dn && (n->ctx = ctx_reg(n->name))) {
			g->ctx = true;
			return 0;
		}
		if (!n->dn)
			return gerr(g, n, "unknown name '%s'", n->name);
		if (n->dn->avail == DA_FLOATREG)
			return gerr(g, n,
				    "%s is passed in a floating-point register, which a probe "
				    "cannot read",
				    n->name);
		if (n->is_result)
			g->ret = true;
		return 0;
	}
	if (n->k == N_LATENCY) {
		if (!g->c->has_ret)
			return gerr(g, n, "latency needs ret = true");
		g->ret = true;
	}
	if (resolve(g, n->a) || resolve(g, n->b))
		return -1;
	return 0;
}

/*
 * Capturing a name adds a value to the plan, which may move the values
 * resolved before it: once every name is captured, resolve them again.
 */
static void rebind(struct pred_ctx *c, struct node *n)
{
	if (!n)
		return;
	if (n->k == N_NAME && n->ctx)
		return;
	if (n->k == N_NAME) {
		n->dn = plan__resolve(c->pb, n->name, &n->is_result);
		if (!n->dn && !strcmp(n->name, "err"))
			n->dn = last_error(c, false, &n->is_result);
		return;
	}
	rebind(c, n->a);
	rebind(c, n->b);
}

/* ---- code generation ---- */

static int tmp(struct gen *g, const struct node *n)
{
	if (g->ntmp >= LP_NTMP)
		return gerr(g, n, "expression too complex");
	return g->ntmp++;
}

static void op(struct gen *g, uint8_t code, int dst, int src, unsigned slot, int32_t imm,
	       uint32_t out, uint32_t size)
{
	struct lp_op o = {code, dst, src, slot, imm, out, size};

	if (!g->failed && plan__emit(g->c->pb, g->ret, &o))
		g->failed = true;
}

/* t[dst] = t[dst] && !(slot faulted): an unreadable value makes a comparison false */
static void guard(struct gen *g, const struct node *n, int dst, unsigned slot)
{
	int f = tmp(g, n);

	if (f < 0)
		return;
	op(g, LP_OP_FAULTED, f, 0, slot, 0, 0, 0);
	op(g, LP_OP_NOT, f, f, 0, 0, 0, 0);
	op(g, LP_OP_AND, dst, f, 0, 0, 0, 0);
	g->ntmp--;
}

/* A comparison with an unreadable operand is false. */
static void guard_operand(struct gen *g, const struct node *at, int t, const struct node *o)
{
	if ((o->k == N_NAME && o->ctx) || (o->k == N_LEN && o->a->ctx))
		return; /* always known */
	if (o->k == N_NAME)
		guard(g, at, t, o->dn->slot);
	else if (o->k == N_LEN)
		guard(g, at, t,
		      o->a->dn->kind == DN_MAP || o->a->dn->kind == DN_CHAN ? o->a->dn->aux_slot
									    : o->a->dn->slot);
}

static bool is_int_type(const struct gotype *t)
{
	return t->kind == GK_INT || t->kind == GK_UINT || t->kind == GK_UINTPTR ||
	       t->kind == GK_BOOL;
}

static bool is_nilable(const struct dnode *d)
{
	switch (d->kind) {
	case DN_PTR:
	case DN_MAP:
	case DN_CHAN:
	case DN_FUNC:
	case DN_IFACE:
	case DN_SLICE:
		return true;
	case DN_SCALAR:
		return d->type->kind == GK_UNSAFEPTR;
	default:
		return false;
	}
}

/* Load an integer operand into a new temporary; *uns says unsigned. */
static int load_int(struct gen *g, const struct node *n, bool *uns)
{
	int t = tmp(g, n);
	const struct dnode *d;

	if (t < 0)
		return -1;
	*uns = false;
	switch (n->k) {
	case N_INT:
		if (n->ival >= INT32_MIN && n->ival <= INT32_MAX) {
			op(g, LP_OP_IMM, t, 0, 0, (int32_t)n->ival, 0, 0);
		} else {
			int at = plan__const(g->c->pb, &n->ival, 8);

			if (at < 0)
				return gerr(g, n, "too many constants");
			op(g, LP_OP_CONST, t, 0, 0, at, 0, 0);
		}
		return t;
	case N_LATENCY:
		op(g, LP_OP_REG, t, LP_REG_LATENCY, 0, 0, 0, 0);
		*uns = true;
		return t;
	case N_LEN:
		if (n->a->ctx)
			return gerr(g, n, "len() of %s, which is not a string, slice, map or channel",
				    n->a->name);
		d = n->a->dn;
		*uns = true;
		if (d->kind == DN_STRING || d->kind == DN_SLICE) {
			op(g, LP_OP_DATA, t, 0, 0, 0, d->img + 8, 8);
			return t;
		}
		if (d->kind == DN_MAP || d->kind == DN_CHAN) {
			op(g, LP_OP_DATA, t, 0, 0, 0, d->aux, 8);
			return t;
		}
		return gerr(g, n, "len() of %s, which is not a string, slice, map or channel",
			    n->a->name);
	case N_NAME:
		if (n->ctx == LP_REG_COMM0)
			return gerr(g, n, "comm is a string; compare it with == \"...\" or prefix()");
		if (n->ctx) {
			op(g, LP_OP_REG, t, n->ctx, 0, 0, 0, 0);
			*uns = true;
			return t;
		}
		d = n->dn;
		if (d->kind != DN_SCALAR || !is_int_type(d->type))
			return gerr(g, n, "%s is a %s, not an integer; compare it %s", n->name,
				    d->type->name ? d->type->name : "value",
				    d->type->kind == GK_FLOAT
					    ? "in Lua"
					    : "with == \"...\" or nil, or use len()");
		op(g, LP_OP_DATA, t, 0, 0, 0, d->img, d->type->size);
		if (d->type->kind == GK_INT && d->type->size < 8)
			op(g, LP_OP_SEXT, t, t, 0, 0, 0, d->type->size);
		*uns = d->type->kind != GK_INT;
		return t;
	default:
		return gerr(g, n, "expected an integer");
	}
}

static int gen_bool(struct gen *g, const struct node *n);

/*
 * t = t && (the low `keep` bytes of word `reg` of comm == those of want):
 * the bytes past them are shifted out (multiplied away: MULI by 2^k).
 */
static void comm_word(struct gen *g, const struct node *at, int t, int reg, uint64_t want,
		      unsigned keep)
{
	unsigned shift = 64 - 8 * keep, k;
	int u = tmp(g, at), c = tmp(g, at), off;

	if (u < 0 || c < 0)
		return;
	if (shift)
		want <<= shift;
	off = plan__const(g->c->pb, &want, 8);
	if (off < 0) {
		gerr(g, at, "too many string constants");
		return;
	}
	op(g, LP_OP_REG, u, reg, 0, 0, 0, 0);
	for (; shift; shift -= k) {
		k = shift > 28 ? 28 : shift;
		op(g, LP_OP_MULI, u, u, 0, (int32_t)(1u << k), 0, 0);
	}
	op(g, LP_OP_CONST, c, 0, 0, off, 0, 0);
	op(g, LP_OP_CMPT, u, c, 0, 0, 0, LP_CMP_EQ);
	op(g, LP_OP_AND, t, u, 0, 0, 0, 0);
	g->ntmp = t + 1;
}

/*
 * comm == / != / prefix: the kernel's copy of the thread's name is zero-padded
 * to 16 bytes, so equality is two words against the zero-padded constant.
 */
static int gen_comm(struct gen *g, const struct node *str, bool prefix, bool negate,
		    const struct node *at)
{
	unsigned char want[16] = {0};
	uint64_t w[2];
	size_t len = str->slen, i;
	int t;

	if (len > 15)
		return gerr(g, at, "comm holds at most 15 bytes (the kernel cuts thread names)");
	memcpy(want, str->sval, len);
	memcpy(w, want, sizeof(w));
	t = tmp(g, at);
	if (t < 0)
		return -1;
	op(g, LP_OP_IMM, t, 0, 0, 1, 0, 0);
	for (i = 0; i < 2; i++) {
		size_t keep = prefix ? (len > 8 * i ? len - 8 * i : 0) : 8;

		if (keep)
			comm_word(g, at, t, LP_REG_COMM0 + (int)i, w[i], keep > 8 ? 8 : keep);
	}
	if (negate)
		op(g, LP_OP_NOT, t, t, 0, 0, 0, 0);
	g->ntmp = t + 1;
	return t;
}

/* string == / != / prefix */
static int gen_string(struct gen *g, const struct node *name, const struct node *str, bool prefix,
		      bool negate, const struct node *at)
{
	const struct dnode *d = name->dn;
	int t, c, constoff;
	size_t k;

	if (name->ctx == LP_REG_COMM0)
		return gen_comm(g, str, prefix, negate, at);
	if (name->ctx)
		return gerr(g, at, "%s is not a string", name->name);
	if (d->kind != DN_STRING)
		return gerr(g, at, "%s is not a string", name->name);
	t = tmp(g, at);
	c = tmp(g, at);
	if (t < 0 || c < 0)
		return -1;
	constoff = str->slen ? plan__const(g->c->pb, str->sval, str->slen) : 0;
	if (constoff < 0)
		return gerr(g, at, "too many string constants");
	/* the Go length decides equality; the copied bytes must cover the constant */
	op(g, LP_OP_DATA, t, 0, 0, 0, d->img + 8, 8);
	op(g, LP_OP_CMP, t, t, 0, (int32_t)str->slen, 0, prefix ? LP_CMP_GEU : LP_CMP_EQ);
	op(g, LP_OP_STRLEN, c, 0, 0, 0, d->var, 0);
	op(g, LP_OP_CMP, c, c, 0, (int32_t)str->slen, 0, LP_CMP_GEU);
	op(g, LP_OP_AND, t, c, 0, 0, 0, 0);
	for (k = 0; k * 8 < str->slen; k++) {
		size_t left = str->slen - k * 8;

		op(g, LP_OP_STRCHUNK, c, k, 0, constoff + (int32_t)(k * 8), d->var,
		   left > 8 ? 8 : left);
		op(g, LP_OP_AND, t, c, 0, 0, 0, 0);
	}
	guard(g, at, t, d->slot);
	guard(g, at, t, d->var_slot);
	if (negate)
		op(g, LP_OP_NOT, t, t, 0, 0, 0, 0);
	g->ntmp = t + 1;
	return t;
}

static int mirror(int cmp)
{
	switch (cmp) {
	case LP_CMP_LT:
		return LP_CMP_GT;
	case LP_CMP_LE:
		return LP_CMP_GE;
	case LP_CMP_GT:
		return LP_CMP_LT;
	case LP_CMP_GE:
		return LP_CMP_LE;
	}
	return cmp;
}

static int unsigned_cmp(int cmp)
{
	switch (cmp) {
	case LP_CMP_LT:
		return LP_CMP_LTU;
	case LP_CMP_LE:
		return LP_CMP_LEU;
	case LP_CMP_GT:
		return LP_CMP_GTU;
	case LP_CMP_GE:
		return LP_CMP_GEU;
	}
	return cmp;
}

static int gen_cmp(struct gen *g, const struct node *n)
{
	const struct node *l = n->a, *r = n->b;
	int cmpop = n->op, t, u;
	bool ul, ur;

	/* literal on the left: swap */
	if (l->k == N_INT || l->k == N_STR || l->k == N_NIL || l->k == N_BOOL) {
		const struct node *x = l;

		l = r;
		r = x;
		cmpop = mirror(cmpop);
	}
	if (r->k == N_STR) {
		if (l->k != N_NAME)
			return gerr(g, n, "a string can only be compared with a string");
		if (cmpop != LP_CMP_EQ && cmpop != LP_CMP_NE)
			return gerr(g, n, "strings compare with == and ~= only (or prefix())");
		return gen_string(g, l, r, false, cmpop == LP_CMP_NE, n);
	}
	if (r->k == N_NIL) {
		const struct dnode *d = l->k == N_NAME && !l->ctx ? l->dn : NULL;

		if (!d || !is_nilable(d))
			return gerr(g, n,
				    "only pointers, interfaces, maps, channels, funcs and slices "
				    "compare with nil");
		if (cmpop != LP_CMP_EQ && cmpop != LP_CMP_NE)
			return gerr(g, n, "nil compares with == and ~= only");
		t = tmp(g, n);
		if (t < 0)
			return -1;
		op(g, LP_OP_DATA, t, 0, 0, 0, d->img, 8);
		op(g, LP_OP_CMP, t, t, 0, 0, 0, cmpop);
		guard(g, n, t, d->slot);
		return t;
	}
	if (r->k == N_BOOL) {
		const struct dnode *d = l->k == N_NAME && !l->ctx ? l->dn : NULL;

		if (!d || d->kind != DN_SCALAR || d->type->kind != GK_BOOL)
			return gerr(g, n, "true and false compare with booleans only");
		if (cmpop != LP_CMP_EQ && cmpop != LP_CMP_NE)
			return gerr(g, n, "booleans compare with == and ~= only");
		t = tmp(g, n);
		if (t < 0)
			return -1;
		op(g, LP_OP_DATA, t, 0, 0, 0, d->img, 1);
		op(g, LP_OP_CMP, t, t, 0, 0, 0, LP_CMP_NE);
		op(g, LP_OP_CMP, t, t, 0, (int32_t)r->ival, 0, cmpop);
		guard(g, n, t, d->slot);
		return t;
	}
	t = load_int(g, l, &ul);
	if (t < 0)
		return -1;
	if (r->k == N_INT && r->ival >= INT32_MIN && r->ival <= INT32_MAX) {
		if (ul && r->ival >= 0)
			cmpop = unsigned_cmp(cmpop);
		op(g, LP_OP_CMP, t, t, 0, (int32_t)r->ival, 0, cmpop);
	} else {
		u = load_int(g, r, &ur);
		if (u < 0)
			return -1;
		if (ul && (ur || r->k == N_INT))
			cmpop = unsigned_cmp(cmpop);
		op(g, LP_OP_CMPT, t, u, 0, 0, 0, cmpop);
		guard_operand(g, n, t, r);
	}
	guard_operand(g, n, t, l);
	g->ntmp = t + 1;
	return t;
}

static int gen_bool(struct gen *g, const struct node *n)
{
	int a, b;

	switch (n->k) {
	case N_OR:
	case N_AND:
		a = gen_bool(g, n->a);
		b = a < 0 ? -1 : gen_bool(g, n->b);
		if (b < 0)
			return -1;
		op(g, n->k == N_OR ? LP_OP_OR : LP_OP_AND, a, b, 0, 0, 0, 0);
		g->ntmp = a + 1;
		return a;
	case N_NOT:
		a = gen_bool(g, n->a);
		if (a >= 0)
			op(g, LP_OP_NOT, a, a, 0, 0, 0, 0);
		return a;
	case N_CMP:
		return gen_cmp(g, n);
	case N_PREFIX:
		return gen_string(g, n->a, n->b, true, false, n);
	case N_BOOL:
		a = tmp(g, n);
		if (a >= 0)
			op(g, LP_OP_IMM, a, 0, 0, (int32_t)n->ival, 0, 0);
		return a;
	case N_NAME: {
		const struct dnode *d = n->dn;

		if (n->ctx)
			return gerr(g, n, "%s is not a condition; compare it with something",
				    n->name);
		/* a bare name is true when a boolean is true or a reference is not nil */
		if (d->kind == DN_SCALAR && d->type->kind == GK_BOOL) {
			a = tmp(g, n);
			if (a < 0)
				return -1;
			op(g, LP_OP_DATA, a, 0, 0, 0, d->img, 1);
			op(g, LP_OP_CMP, a, a, 0, 0, 0, LP_CMP_NE);
			guard(g, n, a, d->slot);
			return a;
		}
		if (is_nilable(d)) {
			a = tmp(g, n);
			if (a < 0)
				return -1;
			op(g, LP_OP_DATA, a, 0, 0, 0, d->img, 8);
			op(g, LP_OP_CMP, a, a, 0, 0, 0, LP_CMP_NE);
			guard(g, n, a, d->slot);
			return a;
		}
		return gerr(g, n, "%s is not a condition; compare it with something", n->name);
	}
	default:
		return gerr(g, n, "expected a condition");
	}
}

int predicate__compile(const char *expr, struct pred_ctx *ctx, char *err, size_t errlen)
{
	static struct parser ps;
	struct node *root = parse(&ps, expr, err, errlen);
	struct gen g = {.c = ctx, .ps = &ps};
	int t;

	if (!root)
		return -EINVAL;
	if (resolve(&g, root))
		return g.room ? -E2BIG : -EINVAL;
	rebind(ctx, root);
	t = gen_bool(&g, root);
	if (t < 0 || g.failed) {
		if (!*err) {
			snprintf(err, errlen, "where: too much to compute in one probe");
			return -E2BIG;
		}
		return -EINVAL;
	}
	op(&g, LP_OP_FILTER, 0, t, 0, 0, 0, 0);
	if (g.failed) {
		snprintf(err, errlen, "where: too much to compute in one probe");
		return -E2BIG;
	}
	if (!g.ret)
		plan__set_flags(ctx->pb, LP_PF_ENTRY_FILTER);
	if (g.ctx)
		plan__set_flags(ctx->pb, LP_PF_CTX);
	return 0;
}
