// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Go type model: a registry that owns every type (arena allocated, freed
 * at once), the predeclared types, memoized derived types, a parser for Go
 * type syntax and struct field lookup with promotion.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gotype.h"

#define ARENA_CHUNK (64 * 1024)
/* Deep enough for any real type, shallow enough that a hostile spec cannot exhaust the stack. */
#define PARSE_MAX_DEPTH 64
/* Embedding levels searched for a promoted field; Go code never gets near this. */
#define FIELD_MAX_DEPTH 16
#define FIELD_MAX_QUEUE 256

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct derived {
	enum gokind kind;
	const struct gotype *elem;
	uint64_t len;
	const struct gotype *type;
};

struct builtin {
	const char *name;
	enum gokind kind;
	uint8_t size, align;
};

/* amd64 sizes and alignments, as unsafe.Sizeof and unsafe.Alignof report them. */
static const struct builtin builtins[] = {
	{"bool", GK_BOOL, 1, 1},	   {"int8", GK_INT, 1, 1},
	{"int16", GK_INT, 2, 2},	   {"int32", GK_INT, 4, 4},
	{"int64", GK_INT, 8, 8},	   {"int", GK_INT, 8, 8},
	{"uint8", GK_UINT, 1, 1},	   {"uint16", GK_UINT, 2, 2},
	{"uint32", GK_UINT, 4, 4},	   {"uint64", GK_UINT, 8, 8},
	{"uint", GK_UINT, 8, 8},	   {"uintptr", GK_UINTPTR, 8, 8},
	{"float32", GK_FLOAT, 4, 4},	   {"float64", GK_FLOAT, 8, 8},
	{"complex64", GK_COMPLEX, 8, 4},   {"complex128", GK_COMPLEX, 16, 8},
	{"string", GK_STRING, 16, 8},	   {"error", GK_IFACE, 16, 8},
	{"interface {}", GK_EFACE, 16, 8}, {"unsafe.Pointer", GK_UNSAFEPTR, 8, 8},
};

#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

/* Other spellings of predeclared types; Go itself prints the target names. */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{"byte", "uint8"},
	{"rune", "int32"},
	{"any", "interface {}"},
	{"interface{}", "interface {}"},
};

struct gotypes {
	struct arena_chunk *chunks;
	const struct gotype *builtin[NBUILTINS];
	struct derived *memo; /* open addressing, nmemo_cap a power of two */
	size_t nmemo, nmemo_cap;
};

void *gotypes__alloc(struct gotypes *ts, size_t size)
{
	struct arena_chunk *c = ts->chunks;
	size_t need = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	void *p;

	if (need < size)
		return NULL;
	if (!c || c->cap - c->used < need) {
		size_t cap = need > ARENA_CHUNK / 4 ? need : ARENA_CHUNK;

		c = calloc(1, sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		/* A big block gets a chunk of its own behind the current one, which stays in use.
		 */
		if (cap != ARENA_CHUNK && ts->chunks) {
			c->next = ts->chunks->next;
			ts->chunks->next = c;
			c->used = need;
			return c->data;
		}
		c->next = ts->chunks;
		ts->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

const char *gotypes__strdup(struct gotypes *ts, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = gotypes__alloc(ts, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

struct gotype *gotypes__new_type(struct gotypes *ts, enum gokind kind, const char *name,
				 uint64_t size, uint32_t align)
{
	struct gotype *t = gotypes__alloc(ts, sizeof(*t));

	if (!t)
		return NULL;
	if (name && !(name = gotypes__strdup(ts, name)))
		return NULL;
	t->kind = kind;
	t->name = name;
	t->size = size;
	t->align = align;
	return t;
}

struct gotypes *gotypes__new(void)
{
	struct gotypes *ts = calloc(1, sizeof(*ts));
	size_t i;

	if (!ts)
		return NULL;
	for (i = 0; i < NBUILTINS; i++) {
		const struct builtin *b = &builtins[i];

		ts->builtin[i] = gotypes__new_type(ts, b->kind, b->name, b->size, b->align);
		if (!ts->builtin[i]) {
			gotypes__free(ts);
			return NULL;
		}
	}
	return ts;
}

void gotypes__free(struct gotypes *ts)
{
	struct arena_chunk *c, *next;

	if (!ts)
		return;
	for (c = ts->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(ts->memo);
	free(ts);
}

const struct gotype *gotypes__builtin(struct gotypes *ts, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strcmp(name, aliases[i].alias) == 0) {
			name = aliases[i].name;
			break;
		}
	}
	for (i = 0; i < NBUILTINS; i++) {
		if (strcmp(name, builtins[i].name) == 0)
			return ts->builtin[i];
	}
	return NULL;
}

static size_t memo_hash(enum gokind kind, const struct gotype *elem, uint64_t len)
{
	uint64_t h = (uint64_t)(uintptr_t)elem * 0x9e3779b97f4a7c15ull;

	h ^= (len + (uint64_t)kind) * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ (h >> 29));
}

static struct derived *memo_slot(struct derived *tab, size_t cap, enum gokind kind,
				 const struct gotype *elem, uint64_t len)
{
	size_t i = memo_hash(kind, elem, len) & (cap - 1);

	while (tab[i].type && !(tab[i].kind == kind && tab[i].elem == elem && tab[i].len == len))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int memo_grow(struct gotypes *ts)
{
	size_t cap = ts->nmemo_cap ? ts->nmemo_cap * 2 : 64, i;
	struct derived *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (i = 0; i < ts->nmemo_cap; i++) {
		struct derived *d = &ts->memo[i];

		if (d->type)
			*memo_slot(tab, cap, d->kind, d->elem, d->len) = *d;
	}
	free(ts->memo);
	ts->memo = tab;
	ts->nmemo_cap = cap;
	return 0;
}

/* Names need more room than a fixed buffer only for absurd types; build them in the arena. */
static const char *arena_printf(struct gotypes *ts, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *arena_printf(struct gotypes *ts, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(p = gotypes__alloc(ts, (size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

static const struct gotype *derive(struct gotypes *ts, enum gokind kind, const struct gotype *elem,
				   uint64_t len)
{
	struct derived *slot;
	struct gotype *t;
	const char *ename = elem->name ? elem->name : "?";
	const char *name;

	if (ts->nmemo_cap) {
		slot = memo_slot(ts->memo, ts->nmemo_cap, kind, elem, len);
		if (slot->type)
			return slot->type;
	}
	if ((ts->nmemo + 1) * 2 > ts->nmemo_cap && memo_grow(ts))
		return NULL;

	switch (kind) {
	case GK_PTR:
		name = arena_printf(ts, "*%s", ename);
		t = name ? gotypes__new_type(ts, GK_PTR, NULL, 8, 8) : NULL;
		break;
	case GK_SLICE:
		name = arena_printf(ts, "[]%s", ename);
		t = name ? gotypes__new_type(ts, GK_SLICE, NULL, 24, 8) : NULL;
		break;
	case GK_ARRAY:
		if (elem->size && len > UINT64_MAX / elem->size)
			return NULL;
		name = arena_printf(ts, "[%" PRIu64 "]%s", len, ename);
		t = name ? gotypes__new_type(ts, GK_ARRAY, NULL, elem->size * len,
					     elem->align ? elem->align : 1)
			 : NULL;
		break;
	default:
		return NULL;
	}
	if (!t)
		return NULL;
	t->name = name;
	t->elem = elem;
	t->len = kind == GK_ARRAY ? len : 0;

	slot = memo_slot(ts->memo, ts->nmemo_cap, kind, elem, len);
	slot->kind = kind;
	slot->elem = elem;
	slot->len = len;
	slot->type = t;
	ts->nmemo++;
	return t;
}

const struct gotype *gotypes__ptr_to(struct gotypes *ts, const struct gotype *elem)
{
	return elem ? derive(ts, GK_PTR, elem, 0) : NULL;
}

const struct gotype *gotypes__slice_of(struct gotypes *ts, const struct gotype *elem)
{
	return elem ? derive(ts, GK_SLICE, elem, 0) : NULL;
}

const struct gotype *gotypes__array_of(struct gotypes *ts, const struct gotype *elem, uint64_t len)
{
	return elem ? derive(ts, GK_ARRAY, elem, len) : NULL;
}

bool gotype__is_error(const struct gotype *t)
{
	return t && t->kind == GK_IFACE && t->name && strcmp(t->name, "error") == 0;
}

/* --- field lookup ------------------------------------------------------------------------- */

/* The struct an embedded field leads to, and whether the way goes through a pointer. */
static const struct gotype *embedded_struct(const struct gofield *f, bool *via_ptr)
{
	const struct gotype *t = f->type;

	*via_ptr = false;
	if (t && t->kind == GK_PTR) {
		t = t->elem;
		*via_ptr = true;
	}
	return t && t->kind == GK_STRUCT ? t : NULL;
}

struct field_node {
	const struct gotype *st;
	uint64_t offset;
	int parent; /* index in the queue of the node that embeds this one, -1 for the root */
	const struct gofield *via; /* the embedded field that leads here */
	bool indirect;		   /* some embedded field on the way is a pointer */
};

/*
 * Go's selector rule: the shallowest depth at which the name occurs wins,
 * and two fields of that name at that depth make it ambiguous (absent).
 * Returns the index of the node holding the field in q, -1 if none.
 */
static int field_search(const struct gotype *t, const char *name, struct field_node *q,
			const struct gofield **found)
{
	int head = 0, tail = 0, depth, level_end, hit = -1, nhits;

	if (!t || t->kind != GK_STRUCT || !name)
		return -1;
	q[tail++] = (struct field_node){.st = t, .parent = -1};
	for (depth = 0; depth < FIELD_MAX_DEPTH && head < tail; depth++) {
		nhits = 0;
		level_end = tail;
		for (; head < level_end; head++) {
			const struct gotype *st = q[head].st;
			size_t i;

			for (i = 0; i < st->nfields; i++) {
				const struct gofield *f = &st->fields[i];
				const struct gotype *inner;
				bool via_ptr;
				int k;

				if (f->name && strcmp(f->name, name) == 0) {
					if (nhits++ == 0) {
						hit = head;
						*found = f;
					}
					continue;
				}
				if (!f->embedded || !(inner = embedded_struct(f, &via_ptr)))
					continue;
				/* A type embedded twice on one path (through pointers) adds
				 * nothing. */
				for (k = head; k >= 0; k = q[k].parent) {
					if (q[k].st == inner)
						break;
				}
				if (k >= 0 || tail == FIELD_MAX_QUEUE)
					continue;
				q[tail++] = (struct field_node){
					.st = inner,
					.offset = via_ptr ? 0 : q[head].offset + f->offset,
					.parent = head,
					.via = f,
					.indirect = via_ptr || q[head].indirect,
				};
			}
		}
		if (nhits == 1)
			return hit;
		if (nhits > 1)
			return -1;
	}
	return -1;
}

const struct gofield *gotype__field(const struct gotype *t, const char *name, uint64_t *offset)
{
	struct field_node q[FIELD_MAX_QUEUE];
	const struct gofield *f = NULL;
	int at = field_search(t, name, q, &f);

	if (at < 0 || q[at].indirect)
		return NULL;
	if (offset)
		*offset = q[at].offset + f->offset;
	return f;
}

int gotype__field_path(const struct gotype *t, const char *name, const struct gofield **path,
		       size_t max)
{
	struct field_node q[FIELD_MAX_QUEUE];
	const struct gofield *f = NULL;
	int at = field_search(t, name, q, &f);
	size_t n = 1, i;
	int k;

	if (at < 0)
		return -ENOENT;
	for (k = at; q[k].parent >= 0; k = q[k].parent)
		n++;
	if (n > max)
		return -E2BIG;
	i = n;
	path[--i] = f;
	for (k = at; q[k].parent >= 0; k = q[k].parent)
		path[--i] = q[k].via;
	return (int)n;
}

/* --- parser ------------------------------------------------------------------------------- */

struct parser {
	struct gotypes *ts;
	const char *spec, *p;
	gotype_lookup_fn lookup;
	void *ctx;
	int depth;
	char *err;
	size_t errlen;
	bool failed;
};

static int fail(struct parser *ps, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (ps->failed)
		return -EINVAL;
	ps->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "%s at column %d", msg, (int)(at - ps->spec) + 1);
	return -EINVAL;
}

static int nomem(struct parser *ps)
{
	if (!ps->failed && ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "out of memory");
	ps->failed = true;
	return -ENOMEM;
}

/* Spaces and tabs only: inside a struct a newline separates fields. */
static void skip_blank(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static void skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

/* Characters of a (possibly package-qualified) Go name: main.T, net/http.Request, yaml%2ev2.N */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '/' || c == '-' || c == '~' || c == '%' ||
	       (unsigned char)c >= 0x80;
}

static bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (unsigned char)c >= 0x80;
}

/* Is the keyword kw at the cursor, not followed by more name characters? */
static bool at_keyword(struct parser *ps, const char *kw)
{
	size_t n = strlen(kw);

	return strncmp(ps->p, kw, n) == 0 && !name_char(ps->p[n]);
}

static bool expect(struct parser *ps, char c)
{
	skip_space(ps);
	if (*ps->p != c) {
		fail(ps, ps->p, "expected '%c'", c);
		return false;
	}
	ps->p++;
	return true;
}

/* A growable string in the arena, for composite type names. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Move the string into the registry and release the buffer. */
static const char *sb_finish(struct parser *ps, struct sbuf *b)
{
	const char *s = NULL;

	if (!b->oom)
		s = gotypes__strdup(ps->ts, b->s ? b->s : "");
	free(b->s);
	b->s = NULL;
	return s;
}

static int parse_type(struct parser *ps, const struct gotype **out);

static uint64_t align_up(uint64_t v, uint32_t a)
{
	return a > 1 ? (v + a - 1) / a * a : v;
}

/* Go's spelling of a field name for an embedded type: its name without package or type args. */
static const char *embedded_name(struct parser *ps, const struct gotype *t)
{
	const char *n = t->kind == GK_PTR && t->elem ? t->elem->name : t->name;
	const char *end, *dot = NULL, *q;
	char *r;

	if (!n)
		return NULL;
	end = strchr(n, '[');
	if (!end)
		end = n + strlen(n);
	for (q = n; q < end; q++) {
		if (*q == '.')
			dot = q;
	}
	if (dot)
		n = dot + 1;
	r = gotypes__alloc(ps->ts, (size_t)(end - n) + 1);
	if (r) {
		memcpy(r, n, (size_t)(end - n));
		r[end - n] = '\0';
	}
	return r;
}

/* A string literal used as a struct tag: only skipped, the name of the type leaves it out. */
static int skip_tag(struct parser *ps)
{
	const char *start = ps->p;
	char q = *ps->p;

	if (q != '"' && q != '`')
		return 0;
	for (ps->p++; *ps->p && *ps->p != q; ps->p++) {
		if (q == '"' && *ps->p == '\\' && ps->p[1])
			ps->p++;
	}
	if (!*ps->p)
		return fail(ps, start, "unterminated tag");
	ps->p++;
	return 0;
}

struct field_spec {
	const char *at; /* where it is written, for messages */
	const char *name;
	const struct gotype *type;
	bool embedded;
};

/* Lay out the fields of a struct as the gc compiler does and name the type. */
static int struct_layout(struct parser *ps, const struct field_spec *specs, size_t n,
			 const struct gotype **out)
{
	struct sbuf name = {0};
	struct gofield *fields;
	struct gotype *t;
	uint64_t off = 0, lastzero = UINT64_MAX;
	uint32_t align = 1;
	size_t i;
	int err = 0;

	fields = n ? gotypes__alloc(ps->ts, n * sizeof(*fields)) : NULL;
	if (n && !fields) {
		err = nomem(ps);
		goto cleanup;
	}
	sb_str(&name, n ? "struct { " : "struct {}");
	for (i = 0; i < n; i++) {
		const struct gotype *ft = specs[i].type;
		uint32_t fa = ft->align ? ft->align : 1;

		off = align_up(off, fa);
		fields[i] = (struct gofield){.name = specs[i].name,
					     .offset = off,
					     .type = ft,
					     .embedded = specs[i].embedded};
		if (off + ft->size < off) {
			err = fail(ps, specs[i].at, "struct too large");
			goto cleanup;
		}
		if (ft->size == 0)
			lastzero = off;
		off += ft->size;
		if (fa > align)
			align = fa;
		if (i)
			sb_str(&name, "; ");
		if (!specs[i].embedded) {
			sb_str(&name, specs[i].name);
			sb_str(&name, " ");
		}
		sb_str(&name, ft->name ? ft->name : "?");
	}
	if (n)
		sb_str(&name, " }");
	/* A final zero-size field must not point past the struct (golang/go#9401). */
	if (n && off > 0 && off == lastzero)
		off++;
	off = align_up(off, align);

	t = gotypes__new_type(ps->ts, GK_STRUCT, NULL, off, align);
	if (!t || !(t->name = sb_finish(ps, &name))) {
		err = nomem(ps);
		goto cleanup;
	}
	t->nfields = n;
	t->fields = fields;
	*out = t;
cleanup:
	free(name.s);
	return err;
}

static int parse_struct(struct parser *ps, const struct gotype **out)
{
	struct field_spec *specs = NULL;
	size_t n = 0, cap = 0, i, pending = 0;
	int err = 0;

	if (!expect(ps, '{'))
		return -EINVAL;
	for (;;) {
		const char *start;
		const struct gotype *ft;
		bool embedded = false;

		skip_space(ps);
		while (!pending && *ps->p == ';') {
			ps->p++;
			skip_space(ps);
		}
		if (!pending && *ps->p == '}') {
			ps->p++;
			break;
		}
		if (n == cap) {
			struct field_spec *p;

			cap = cap ? cap * 2 : 8;
			p = realloc(specs, cap * sizeof(*specs));
			if (!p) {
				err = nomem(ps);
				goto cleanup;
			}
			specs = p;
		}
		start = ps->p;
		if (*ps->p == '*' && !pending) {
			/* Embedded *T. */
			embedded = true;
		} else if (ident_start(*ps->p)) {
			const char *q = ps->p;
			bool qualified;

			while (name_char(*q))
				q++;
			qualified = memchr(ps->p, '.', (size_t)(q - ps->p)) != NULL;
			if (qualified && pending) {
				err = fail(ps, start, "expected field name");
				goto cleanup;
			}
			if (qualified) {
				embedded = true; /* pkg.T */
			} else {
				const char *after = q;

				while (*after == ' ' || *after == '\t')
					after++;
				/* After "A, " only more names can follow. */
				if (!pending &&
				    (*after == ';' || *after == '}' || *after == '\n' ||
				     *after == '"' || *after == '`' || *after == '\0')) {
					embedded = true; /* T */
				} else {
					char *fname =
						gotypes__alloc(ps->ts, (size_t)(q - ps->p) + 1);

					if (!fname) {
						err = nomem(ps);
						goto cleanup;
					}
					memcpy(fname, ps->p, (size_t)(q - ps->p));
					fname[q - ps->p] = '\0';
					specs[n++] =
						(struct field_spec){.at = start, .name = fname};
					pending++;
					ps->p = after;
					if (*ps->p == ',') {
						/* A, B int: the type comes with the last name. */
						ps->p++;
						continue;
					}
				}
			}
		} else {
			err = fail(ps, start,
				   pending ? "expected field name" : "expected field name or '}'");
			goto cleanup;
		}

		err = parse_type(ps, &ft);
		if (err)
			goto cleanup;
		if (embedded) {
			const struct gotype *base = ft->kind == GK_PTR ? ft->elem : ft;

			if (!base || !base->name || (ft->kind == GK_PTR && base->kind == GK_PTR) ||
			    strncmp(base->name, "struct {", 8) == 0 || base->name[0] == '[' ||
			    base->name[0] == '*') {
				err = fail(ps, start, "embedded field must be a type name");
				goto cleanup;
			}
			specs[n++] = (struct field_spec){.at = start,
							 .name = embedded_name(ps, ft),
							 .type = ft,
							 .embedded = true};
			if (!specs[n - 1].name) {
				err = nomem(ps);
				goto cleanup;
			}
		} else {
			for (i = n - pending; i < n; i++)
				specs[i].type = ft;
			pending = 0;
		}
		skip_blank(ps);
		err = skip_tag(ps);
		if (err)
			goto cleanup;
		skip_blank(ps);
		/* A newline ends a field as ';' does. */
		if (*ps->p != ';' && *ps->p != '}' && *ps->p != '\n' && *ps->p != '\r') {
			err = fail(ps, ps->p, "expected ';' or '}'");
			goto cleanup;
		}
	}
	err = struct_layout(ps, specs, n, out);
cleanup:
	free(specs);
	return err;
}

/* func(params) results: only the spelling matters, a func value is one pointer. */
static int parse_type_list(struct parser *ps, struct sbuf *names, int *n, bool params);

static int parse_func(struct parser *ps, const struct gotype **out)
{
	struct sbuf name = {0}, res = {0};
	const struct gotype *t;
	struct gotype *ft;
	int err, nparams = 0, nres = 0;

	sb_str(&name, "func(");
	if (!expect(ps, '(')) {
		err = -EINVAL;
		goto cleanup;
	}
	err = parse_type_list(ps, &name, &nparams, true);
	if (err)
		goto cleanup;
	sb_str(&name, ")");

	skip_space(ps);
	if (*ps->p == '(') {
		ps->p++;
		err = parse_type_list(ps, &res, &nres, false);
		if (err)
			goto cleanup;
		/* Go writes a single result without parentheses. */
		if (nres == 1) {
			sb_str(&name, " ");
			sb_str(&name, res.s);
		} else if (nres > 1) {
			sb_str(&name, " (");
			sb_str(&name, res.s);
			sb_str(&name, ")");
		}
	} else if (*ps->p && !strchr(";,)]}\"`", *ps->p)) {
		err = parse_type(ps, &t);
		if (err)
			goto cleanup;
		sb_str(&name, " ");
		sb_str(&name, t->name);
	}
	if (res.oom)
		name.oom = true;

	ft = gotypes__new_type(ps->ts, GK_FUNC, NULL, 8, 8);
	if (!ft || !(ft->name = sb_finish(ps, &name))) {
		err = nomem(ps);
		goto cleanup;
	}
	*out = ft;
cleanup:
	free(res.s);
	free(name.s);
	return err;
}

/* Types separated by commas up to ')' (the last parameter may be variadic), after the '('. */
static int parse_type_list(struct parser *ps, struct sbuf *names, int *n, bool params)
{
	const struct gotype *t;
	bool variadic = false;
	int err;

	for (;;) {
		skip_space(ps);
		if (*ps->p == ')') {
			ps->p++;
			return 0;
		}
		if (*n) {
			if (variadic)
				return fail(ps, ps->p, "expected ')'");
			if (!expect(ps, ','))
				return -EINVAL;
			sb_str(names, ", ");
			skip_space(ps);
		}
		if (params && strncmp(ps->p, "...", 3) == 0) {
			ps->p += 3;
			sb_str(names, "...");
			variadic = true;
		}
		err = parse_type(ps, &t);
		if (err)
			return err;
		sb_str(names, t->name);
		(*n)++;
	}
}

enum chan_dir { CHAN_BOTH, CHAN_RECV, CHAN_SEND };

static int make_chan(struct parser *ps, enum chan_dir dir, const struct gotype *elem,
		     const struct gotype **out)
{
	static const char *const prefix[] = {"chan ", "<-chan ", "chan<- "};
	struct gotype *t;
	const char *name;
	/* chan (<-chan int): without the parentheses it would read as chan<- chan int. */
	bool paren = dir == CHAN_BOTH && elem->kind == GK_CHAN && elem->name &&
		     strncmp(elem->name, "<-chan", 6) == 0;

	name = arena_printf(ps->ts, "%s%s%s%s", prefix[dir], paren ? "(" : "", elem->name,
			    paren ? ")" : "");
	t = name ? gotypes__new_type(ps->ts, GK_CHAN, NULL, 8, 8) : NULL;
	if (!t)
		return nomem(ps);
	t->name = name;
	t->elem = elem;
	*out = t;
	return 0;
}

/* A named type, with generic arguments if any: main.Pair[string,int]. */
static int parse_name(struct parser *ps, const struct gotype **out)
{
	const char *start = ps->p;
	struct sbuf name = {0};
	const struct gotype *t;
	int err = 0;

	while (name_char(*ps->p))
		ps->p++;
	sb_add(&name, start, (size_t)(ps->p - start));
	/* Type arguments follow a qualified name directly; Go spells them without spaces. */
	if (*ps->p == '[' && memchr(start, '.', (size_t)(ps->p - start))) {
		int nest = 0;

		do {
			char c = *ps->p;

			if (c == '\0') {
				err = fail(ps, ps->p, "expected ']'");
				goto cleanup;
			}
			if (c == '[')
				nest++;
			else if (c == ']')
				nest--;
			sb_add(&name, ps->p++, 1);
			if (c == ',')
				skip_space(ps);
		} while (nest);
	}
	if (name.oom) {
		err = nomem(ps);
		goto cleanup;
	}
	t = gotypes__builtin(ps->ts, name.s);
	if (!t && ps->lookup)
		t = ps->lookup(ps->ctx, name.s);
	if (!t) {
		err = fail(ps, start, "unknown type '%s'", name.s);
		goto cleanup;
	}
	*out = t;
cleanup:
	free(name.s);
	return err;
}

static int parse_type_inner(struct parser *ps, const struct gotype **out)
{
	const struct gotype *elem, *key;
	const char *start;
	int err;

	skip_space(ps);
	start = ps->p;
	switch (*ps->p) {
	case '\0':
		return fail(ps, ps->p, "expected a type");
	case '*':
		ps->p++;
		err = parse_type(ps, &elem);
		if (!err && !(*out = gotypes__ptr_to(ps->ts, elem)))
			err = nomem(ps);
		return err;
	case '(':
		ps->p++;
		err = parse_type(ps, out);
		if (!err && !expect(ps, ')'))
			err = -EINVAL;
		return err;
	case '[': {
		uint64_t len = 0;

		ps->p++;
		skip_space(ps);
		if (*ps->p == ']') {
			ps->p++;
			err = parse_type(ps, &elem);
			if (!err && !(*out = gotypes__slice_of(ps->ts, elem)))
				err = nomem(ps);
			return err;
		}
		if (*ps->p < '0' || *ps->p > '9')
			return fail(ps, ps->p, "expected array length or ']'");
		while (*ps->p >= '0' && *ps->p <= '9') {
			if (len > (UINT64_MAX - 9) / 10)
				return fail(ps, start + 1, "array length too large");
			len = len * 10 + (uint64_t)(*ps->p++ - '0');
		}
		if (!expect(ps, ']'))
			return -EINVAL;
		err = parse_type(ps, &elem);
		if (err)
			return err;
		if (elem->size && len > UINT64_MAX / elem->size)
			return fail(ps, start, "array too large");
		if (!(*out = gotypes__array_of(ps->ts, elem, len)))
			return nomem(ps);
		return 0;
	}
	case '<':
		if (strncmp(ps->p, "<-", 2) != 0)
			break;
		ps->p += 2;
		skip_space(ps);
		if (!at_keyword(ps, "chan"))
			return fail(ps, ps->p, "expected 'chan'");
		ps->p += 4;
		err = parse_type(ps, &elem);
		return err ? err : make_chan(ps, CHAN_RECV, elem, out);
	default:
		break;
	}

	if (at_keyword(ps, "chan")) {
		enum chan_dir dir = CHAN_BOTH;

		ps->p += 4;
		skip_space(ps);
		if (strncmp(ps->p, "<-", 2) == 0) {
			ps->p += 2;
			dir = CHAN_SEND;
		}
		err = parse_type(ps, &elem);
		return err ? err : make_chan(ps, dir, elem, out);
	}
	if (at_keyword(ps, "map")) {
		struct gotype *t;
		const char *name;

		ps->p += 3;
		if (!expect(ps, '['))
			return -EINVAL;
		err = parse_type(ps, &key);
		if (err)
			return err;
		if (!expect(ps, ']'))
			return -EINVAL;
		err = parse_type(ps, &elem);
		if (err)
			return err;
		name = arena_printf(ps->ts, "map[%s]%s", key->name, elem->name);
		t = name ? gotypes__new_type(ps->ts, GK_MAP, NULL, 8, 8) : NULL;
		if (!t)
			return nomem(ps);
		t->name = name;
		t->key = key;
		t->elem = elem;
		*out = t;
		return 0;
	}
	if (at_keyword(ps, "func")) {
		ps->p += 4;
		return parse_func(ps, out);
	}
	if (at_keyword(ps, "struct")) {
		ps->p += 6;
		return parse_struct(ps, out);
	}
	if (at_keyword(ps, "interface")) {
		ps->p += 9;
		if (!expect(ps, '{'))
			return -EINVAL;
		skip_space(ps);
		if (*ps->p != '}')
			return fail(ps, ps->p,
				    "expected '}' (only interface{} can be written; name other "
				    "interface types)");
		ps->p++;
		*out = gotypes__builtin(ps->ts, "any");
		return 0;
	}
	if (ident_start(*ps->p))
		return parse_name(ps, out);
	return fail(ps, start, "expected a type");
}

static int parse_type(struct parser *ps, const struct gotype **out)
{
	int err;

	if (++ps->depth > PARSE_MAX_DEPTH) {
		skip_space(ps);
		return fail(ps, ps->p, "type nested too deeply");
	}
	err = parse_type_inner(ps, out);
	ps->depth--;
	return err;
}

int gotypes__parse(struct gotypes *ts, const char *spec, gotype_lookup_fn lookup, void *ctx,
		   const struct gotype **out, char *err, size_t errlen)
{
	struct parser ps = {
		.ts = ts,
		.spec = spec,
		.p = spec,
		.lookup = lookup,
		.ctx = ctx,
		.err = err,
		.errlen = errlen,
	};
	const struct gotype *t;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	ret = parse_type(&ps, &t);
	if (ret)
		return ret;
	skip_space(&ps);
	if (*ps.p) {
		const char *q = ps.p;

		while (name_char(*q))
			q++;
		if (q == ps.p)
			q++;
		return fail(&ps, ps.p, "unexpected '%.*s'", (int)(q - ps.p), ps.p);
	}
	*out = t;
	return 0;
}
