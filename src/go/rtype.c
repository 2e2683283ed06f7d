// SPDX-License-Identifier: BSD-2-Clause
/*
 * Runtime type descriptors, read from the file. The layouts (64-bit), from
 * each release's runtime/type.go (internal/abi/type.go since Go 1.21):
 *
 *   abi.Type, 48 bytes, the same from 1.13 to 1.27: size 0, ptrdata 8,
 *     hash 16, tflag 20, align 21, fieldAlign 22, kind 23 (low 5 bits),
 *     equal (alg before 1.14) 24, gcdata 32, str nameOff 40, ptrToThis
 *     typeOff 44.
 *   then by kind: array {elem, slice, len} 72; chan {elem, dir} 64; func
 *     {inCount u16, outCount u16 (top bit: variadic)} 56, its parameter
 *     types following the uncommon part; interface {pkgPath, methods
 *     []{name nameOff, typ typeOff}} 80; map {key, elem, bucket, hasher
 *     (1.14+), sizes, flags} 80/88, swiss maps (1.24+) {key, elem, group,
 *     hasher, groupSize, slotSize, elemOff, flags} 112, 136 since 1.27
 *     (three more sizes before flags); pointer and slice
 *     {elem} 56; struct {pkgPath, fields []{name, typ, offset}} 80.
 *   then, when tflag has Uncommon, {pkgPath nameOff, mcount u16, xcount
 *     u16, moff u32, pad} 16, and at its moff mcount methods {name nameOff,
 *     mtyp typeOff, ifn textOff, tfn textOff}.
 *
 * A name is a flag byte (1 exported, 2 tag follows, 4 pkgPath follows,
 * 8 embedded field since 1.19), the length (big-endian uint16 before 1.17,
 * a uvarint since) and the bytes. A struct field's offset was offset<<1 |
 * embedded before 1.19. nameOff and typeOff count from runtime.types,
 * textOff from runtime.text; -1 (and 0) means none.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gobin.h"
#include "gotype.h"
#include "log.h"
#include "rtype.h"

#define HDR		48
#define TFLAG_UNCOMMON	0x1
#define TFLAG_NAMED	0x4
#define NAME_EMBEDDED	0x8
#define MAX_TYPES	(1u << 21)
#define MAX_FIELDS	65536
#define MAX_IMETHODS	4096
#define MAX_NAME	(1u << 20)
#define NAME_DEPTH	8
#define FIELD_DEPTH	16
#define FIELD_QUEUE	256
#define GOTYPE_DEPTH	256

struct msig {
	uint64_t text;
	struct rtype_sig sig;
};

struct nameslot {
	const char *key;
	const struct rtype *t;
};

struct rtypes {
	struct gobin *gb;
	struct gotypes *arena;
	int minor; /* Go 1.minor, which decides the encodings */
	uint64_t types, etypes, text;
	struct rtype **all; /* every type, in the order found; also the queue to read */
	size_t count, cap;
	struct rtype **byaddr; /* open addressing on addr */
	size_t amask;
	struct nameslot *byname;
	size_t nmask;
	uint64_t *itabs;
	size_t nitabs;
	struct msig *sigs; /* sorted by text */
	size_t nsigs, sigcap;
	struct rtypes_stats st;
	uint64_t budget; /* fields, methods, parameters and signatures left to read */
	struct gotypes *conv_ts; /* the registry conv[] holds types of */
	struct conv *conv;	 /* rtype -> gotype, open addressing on the rtype */
	size_t conv_count, conv_mask;
};

struct conv {
	const struct rtype *from;
	struct gotype *to;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Count an error; the first few say where, at -vv. */
static void bad(struct rtypes *rt, int line)
{
	if (rt->st.errors++ < 8)
		pr_debug("rtype: %s: damaged type data (rtype.c:%d)\n", gobin__path(rt->gb), line);
}

/* Bytes at vaddr, counting an error when they are not in the file. */
static const uint8_t *need(struct rtypes *rt, uint64_t vaddr, size_t len)
{
	const uint8_t *p = gobin__data(rt->gb, vaddr, len);

	if (!p)
		bad(rt, __LINE__);
	return p;
}

/*
 * Parts (fields, methods, parameters, signatures) may be read in proportion
 * to the type data: descriptors of a damaged binary can share one long
 * array, which must not multiply into gigabytes.
 */
static bool take(struct rtypes *rt, uint64_t n)
{
	if (n > rt->budget) {
		bad(rt, __LINE__);
		return false;
	}
	rt->budget -= n;
	return true;
}

/* A pointer stored at vaddr, as linked. */
static bool rd_ptr(struct rtypes *rt, uint64_t vaddr, uint64_t *out)
{
	if (gobin__read_ptr(rt->gb, vaddr, out))
		return true;
	bad(rt, __LINE__);
	return false;
}

/* Types by address */

static struct rtype **addr_slot(struct rtype **tab, size_t mask, uint64_t addr)
{
	size_t h = (size_t)((addr >> 3) * 0x9e3779b97f4a7c15ULL) & mask;

	while (tab[h] && tab[h]->addr != addr)
		h = (h + 1) & mask;
	return &tab[h];
}

static int addr_grow(struct rtypes *rt)
{
	size_t size = rt->byaddr ? (rt->amask + 1) * 2 : 4096;
	struct rtype **tab = calloc(size, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; rt->byaddr && i <= rt->amask; i++)
		if (rt->byaddr[i])
			*addr_slot(tab, size - 1, rt->byaddr[i]->addr) = rt->byaddr[i];
	free(rt->byaddr);
	rt->byaddr = tab;
	rt->amask = size - 1;
	return 0;
}

/* The type at addr, queued to be read if new; NULL (an error) if addr is not a descriptor. */
static struct rtype *get(struct rtypes *rt, uint64_t addr)
{
	struct rtype **slot, *t;

	if (rt->byaddr) {
		slot = addr_slot(rt->byaddr, rt->amask, addr);
		if (*slot)
			return *slot;
	}
	if (addr < rt->types || addr >= rt->etypes || gobin__type_kind(rt->gb, addr) < 0 ||
	    rt->count >= MAX_TYPES) {
		bad(rt, __LINE__);
		return NULL;
	}
	if ((rt->count + 1) * 2 > (rt->byaddr ? rt->amask + 1 : 0) && addr_grow(rt))
		return NULL;
	if (rt->count == rt->cap) {
		size_t cap = rt->cap ? rt->cap * 2 : 4096;
		struct rtype **all = realloc(rt->all, cap * sizeof(*all));

		if (!all)
			return NULL;
		rt->all = all;
		rt->cap = cap;
	}
	t = gotypes__alloc(rt->arena, sizeof(*t));
	if (!t)
		return NULL;
	t->addr = addr;
	rt->all[rt->count++] = t;
	*addr_slot(rt->byaddr, rt->amask, addr) = t;
	return t;
}

/* The type a pointer at vaddr points to. */
static struct rtype *ptr_type(struct rtypes *rt, uint64_t vaddr)
{
	uint64_t v;

	if (!rd_ptr(rt, vaddr, &v))
		return NULL;
	if (!v) {
		bad(rt, __LINE__);
		return NULL;
	}
	return get(rt, v);
}

/* The type at a typeOff; NULL for none (0, -1) or a bad offset. */
static struct rtype *type_off(struct rtypes *rt, int32_t off)
{
	if (off == 0 || off == -1)
		return NULL;
	if (off < 0 || (uint64_t)off >= rt->etypes - rt->types) {
		bad(rt, __LINE__);
		return NULL;
	}
	return get(rt, rt->types + (uint64_t)off);
}

/* Names */

/* The name record at vaddr, copied; *flags gets its flag byte. NULL (an error) if unreadable. */
static const char *read_name(struct rtypes *rt, uint64_t vaddr, uint8_t *flags)
{
	const uint8_t *p = need(rt, vaddr, rt->minor >= 17 ? 2 : 3), *s;
	uint64_t len = 0, hdr;
	char *out;

	if (!p)
		return NULL;
	*flags = p[0];
	if (rt->minor >= 17) {
		for (hdr = 1;; hdr++) {
			p = hdr <= 10 ? gobin__data(rt->gb, vaddr + hdr, 1) : NULL;
			if (!p) {
				bad(rt, __LINE__);
				return NULL;
			}
			len |= (uint64_t)(*p & 0x7f) << (7 * (hdr - 1));
			if (!(*p & 0x80))
				break;
		}
		hdr++;
	} else {
		len = (uint64_t)p[1] << 8 | p[2];
		hdr = 3;
	}
	s = len ? gobin__data(rt->gb, vaddr + hdr, len) : p;
	if (len > MAX_NAME || !s) {
		bad(rt, __LINE__);
		return NULL;
	}
	out = gotypes__alloc(rt->arena, len + 1);
	if (out)
		memcpy(out, s, len);
	return out;
}

/* The name at a nameOff; NULL for none (0) or, counting an error, a bad one. */
static const char *name_off(struct rtypes *rt, int32_t off)
{
	uint8_t flags;

	if (off == 0)
		return NULL;
	if (off < 0 || (uint64_t)off >= rt->etypes - rt->types) {
		bad(rt, __LINE__);
		return NULL;
	}
	return read_name(rt, rt->types + (uint64_t)off, &flags);
}

/* Reading one descriptor */

/* Size of the kind-specific descriptor, where the uncommon part starts. */
static uint64_t uncommon_at(struct rtypes *rt, const struct rtype *t)
{
	const uint8_t *p;

	switch (t->kind) {
	case RK_ARRAY:
		return 72;
	case RK_CHAN:
		return 64;
	case RK_FUNC:
	case RK_PTR:
	case RK_SLICE:
		return 56;
	case RK_INTERFACE:
	case RK_STRUCT:
		return 80;
	case RK_MAP:
		if (rt->minor < 14)
			return 80;
		if (rt->minor < 24)
			return 88;
		if (rt->minor >= 27)
			return 136;
		/* 1.24 and 1.25 may have either map: a swiss one has groupSize at 80 */
		p = gobin__data(rt->gb, t->addr + 64, 24);
		if (rt->minor < 26 && p) {
			uint64_t group = le64(p), gsize = le64(p + 16);
			const uint8_t *g = group ? gobin__data(rt->gb, group, 8) : NULL;

			if (!g || le64(g) != gsize)
				return 88;
		}
		return 112;
	default:
		return HDR;
	}
}

static void read_func(struct rtypes *rt, struct rtype *t, bool uncommon)
{
	const uint8_t *p = need(rt, t->addr + HDR, 4);
	uint64_t base = t->addr + 56 + (uncommon ? 16 : 0);
	const struct rtype **v;
	size_t nin, nout;

	if (!p)
		return;
	nin = le16(p);
	nout = le16(p + 2) & 0x7fff;
	t->variadic = (le16(p + 2) & 0x8000) != 0;
	if ((!nin && !nout) || !take(rt, nin + nout))
		return;
	v = gotypes__alloc(rt->arena, (nin + nout) * sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < nin + nout; i++) {
		uint64_t a;

		if (!rd_ptr(rt, base + 8 * i, &a))
			return;
		v[i] = a ? get(rt, a) : NULL;
		if (!v[i])
			return;
	}
	t->in = v;
	t->out = v + nin;
	t->nin = nin;
	t->nout = nout;
}

/* A slice header {ptr, len} at vaddr, len bounded by max and the element size. */
static bool read_slice(struct rtypes *rt, uint64_t vaddr, size_t esize, size_t max,
		       uint64_t *ptr, size_t *n)
{
	const uint8_t *p;

	if (!rd_ptr(rt, vaddr, ptr) || !(p = need(rt, vaddr + 8, 8)))
		return false;
	if (le64(p) > max || (le64(p) && !need(rt, *ptr, le64(p) * esize)))
		return false;
	*n = (size_t)le64(p);
	return true;
}

static void read_interface(struct rtypes *rt, struct rtype *t)
{
	struct rtype_imethod *m;
	uint64_t ptr;
	size_t n;

	if (!read_slice(rt, t->addr + 56, 8, MAX_IMETHODS, &ptr, &n) || !n || !take(rt, n))
		return;
	m = gotypes__alloc(rt->arena, n * sizeof(*m));
	if (!m)
		return;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = gobin__data(rt->gb, ptr + 8 * i, 8);

		m[i].name = name_off(rt, (int32_t)le32(p));
		m[i].func = type_off(rt, (int32_t)le32(p + 4));
		if (!m[i].name)
			return;
	}
	t->imethods = m;
	t->nimethods = n;
}

static void read_struct(struct rtypes *rt, struct rtype *t)
{
	struct rtype_field *f;
	uint64_t ptr;
	size_t n;

	if (!read_slice(rt, t->addr + 56, 24, MAX_FIELDS, &ptr, &n) || !n || !take(rt, n))
		return;
	f = gotypes__alloc(rt->arena, n * sizeof(*f));
	if (!f)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t at = ptr + 24 * i, name, off = le64(gobin__data(rt->gb, at + 16, 8));
		uint8_t flags = 0;

		if (!rd_ptr(rt, at, &name) || !(f[i].name = read_name(rt, name, &flags)))
			return;
		f[i].type = ptr_type(rt, at + 8);
		if (rt->minor >= 19) {
			f[i].embedded = (flags & NAME_EMBEDDED) != 0;
			f[i].offset = off;
		} else {
			f[i].embedded = off & 1;
			f[i].offset = off >> 1;
		}
	}
	t->fields = f;
	t->nfields = n;
}

/*
 * A textOff as an address: 0 for none, which is -1 since Go 1.16 and was 0
 * before (where runtime.text, the first function, is never a method).
 */
static uint64_t text_off(struct rtypes *rt, uint32_t off)
{
	return off == UINT32_MAX || off == 0 ? 0 : rt->text + off;
}

static void read_uncommon(struct rtypes *rt, struct rtype *t, uint64_t u)
{
	const uint8_t *p = need(rt, u, 16), *m;
	struct rtype_method *v;
	size_t n;

	if (!p)
		return;
	t->pkgpath = name_off(rt, (int32_t)le32(p));
	n = le16(p + 4);
	if (!n || !(m = need(rt, u + le32(p + 8), n * 16)) || !take(rt, n))
		return;
	v = gotypes__alloc(rt->arena, n * sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < n; i++, m += 16) {
		v[i].name = name_off(rt, (int32_t)le32(m));
		v[i].func = type_off(rt, (int32_t)le32(m + 4));
		v[i].ifn = text_off(rt, le32(m + 8));
		v[i].tfn = text_off(rt, le32(m + 12));
		if (!v[i].name)
			return;
	}
	t->methods = v;
	t->nmethods = n;
}

static void read_type(struct rtypes *rt, struct rtype *t)
{
	const uint8_t *h = gobin__data(rt->gb, t->addr, HDR), *p;
	uint8_t tflag = h[20];

	t->size = le64(h);
	t->align = h[21];
	t->field_align = h[22];
	t->kind = h[23] & 0x1f;
	t->named = (tflag & TFLAG_NAMED) != 0;
	t->str = gobin__type_name(rt->gb, t->addr);
	if (!t->str) {
		t->str = "?";
		bad(rt, __LINE__);
	}
	t->ptr_to = type_off(rt, (int32_t)le32(h + 44));
	switch (t->kind) {
	case RK_ARRAY:
		t->elem = ptr_type(rt, t->addr + 48);
		if ((p = need(rt, t->addr + 64, 8)))
			t->len = le64(p);
		break;
	case RK_CHAN:
		t->elem = ptr_type(rt, t->addr + 48);
		if ((p = need(rt, t->addr + 56, 8)))
			t->chan_dir = (int)(le64(p) & 3);
		break;
	case RK_FUNC:
		read_func(rt, t, tflag & TFLAG_UNCOMMON);
		break;
	case RK_INTERFACE:
		read_interface(rt, t);
		break;
	case RK_MAP:
		t->key = ptr_type(rt, t->addr + 48);
		t->elem = ptr_type(rt, t->addr + 56);
		break;
	case RK_PTR:
	case RK_SLICE:
		t->elem = ptr_type(rt, t->addr + 48);
		break;
	case RK_STRUCT:
		read_struct(rt, t);
		break;
	default:
		if (t->kind && t->kind <= RK_UNSAFEPTR)
			break;
		bad(rt, __LINE__);
		return;
	}
	if (tflag & TFLAG_UNCOMMON)
		read_uncommon(rt, t, t->addr + uncommon_at(rt, t));
}

/* itabs: {inter, type, hash u32, pad, fun[max(1, len(inter.methods))]} */

static int add_itab(struct rtypes *rt, uint64_t itab, size_t *cap)
{
	if (rt->nitabs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		uint64_t *v = realloc(rt->itabs, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rt->itabs = v;
		*cap = ncap;
	}
	rt->itabs[rt->nitabs++] = itab;
	/* queue the interface and the concrete type */
	ptr_type(rt, itab);
	ptr_type(rt, itab + 8);
	return 0;
}

/* Before Go 1.27 the .itablink section lists them; since, the module data bounds them. */
static int find_itabs(struct rtypes *rt)
{
	struct gobin_section s;
	uint64_t start, size, v;
	size_t cap = 0;
	int err;

	for (size_t i = 0; gobin__section(rt->gb, i, &s); i++) {
		size_t len = strlen(s.name);

		/* ".data.rel.ro.itablink" in PIE builds */
		if (len < 9 || strcmp(s.name + len - 9, ".itablink") != 0)
			continue;
		for (uint64_t o = 0; o + 8 <= s.size && rt->nitabs < MAX_TYPES; o += 8) {
			if (rd_ptr(rt, s.addr + o, &v) && v && (err = add_itab(rt, v, &cap)))
				return err;
		}
		return 0;
	}
	if (gobin__itab_area(rt->gb, &start, &size))
		return 0;
	for (uint64_t a = start; a + 32 <= start + size && rt->nitabs < MAX_TYPES;) {
		const uint8_t *p;
		uint64_t nm;

		if (!rd_ptr(rt, a, &v) || gobin__type_kind(rt->gb, v) != RK_INTERFACE ||
		    !(p = need(rt, v + 64, 8)) || (nm = le64(p)) > MAX_IMETHODS)
			break;
		if ((err = add_itab(rt, a, &cap)))
			return err;
		a += 24 + 8 * (nm ? nm : 1);
	}
	return 0;
}

/* Method signatures by code address */

static int add_sig(struct rtypes *rt, uint64_t text, const struct rtype *t, const char *name,
		   const struct rtype *func)
{
	const struct gobin_func *f;
	struct msig *m;

	if (!text || !func || !name)
		return 0;
	f = gobin__func_at(rt->gb, text);
	if (!f || f->entry != text) {
		bad(rt, __LINE__);
		return 0;
	}
	if (!take(rt, 1))
		return 0;
	if (rt->nsigs == rt->sigcap) {
		size_t cap = rt->sigcap ? rt->sigcap * 2 : 1024;

		m = realloc(rt->sigs, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		rt->sigs = m;
		rt->sigcap = cap;
	}
	m = &rt->sigs[rt->nsigs++];
	m->text = text;
	m->sig.method = name;
	m->sig.recv = t;
	/* a value method called through a pointer: the code is the (*T).M wrapper */
	m->sig.recv_ptr = t->kind != RK_PTR && strstr(f->name, ".(*") != NULL;
	m->sig.func = func;
	return 0;
}

static int sig_cmp(const void *a, const void *b)
{
	const struct msig *x = a, *y = b;

	if (x->text != y->text)
		return x->text < y->text ? -1 : 1;
	/* the exact receiver first */
	return (int)x->sig.recv_ptr - (int)y->sig.recv_ptr;
}

static int index_methods(struct rtypes *rt)
{
	size_t n = 0;
	int err;

	for (size_t i = 0; i < rt->count; i++) {
		const struct rtype *t = rt->all[i];

		for (size_t j = 0; j < t->nmethods; j++) {
			const struct rtype_method *m = &t->methods[j];

			if ((err = add_sig(rt, m->tfn, t, m->name, m->func)))
				return err;
			if (m->ifn != m->tfn && (err = add_sig(rt, m->ifn, t, m->name, m->func)))
				return err;
		}
	}
	for (size_t i = 0; i < rt->nitabs; i++) {
		const struct rtype *in, *ty;
		uint64_t a;

		if (!rd_ptr(rt, rt->itabs[i], &a) || !(in = rtypes__at(rt, a)) ||
		    !rd_ptr(rt, rt->itabs[i] + 8, &a) || !(ty = rtypes__at(rt, a)))
			continue;
		for (size_t j = 0; j < in->nimethods; j++) {
			if (!rd_ptr(rt, rt->itabs[i] + 24 + 8 * j, &a))
				break;
			err = add_sig(rt, a, ty, in->imethods[j].name, in->imethods[j].func);
			if (err)
				return err;
		}
	}
	if (rt->nsigs)
		qsort(rt->sigs, rt->nsigs, sizeof(*rt->sigs), sig_cmp);
	/* one entry per address */
	for (size_t i = 0; i < rt->nsigs; i++)
		if (!n || rt->sigs[i].text != rt->sigs[n - 1].text)
			rt->sigs[n++] = rt->sigs[i];
	rt->nsigs = n;
	rt->st.methods = n;
	return 0;
}

/* Names with package paths */

static const char *full_name(struct rtypes *rt, struct rtype *t, int depth);

static const char *elem_name(struct rtypes *rt, const struct rtype *e, int depth)
{
	return e ? full_name(rt, (struct rtype *)e, depth + 1) : "?";
}

static const char *full_name(struct rtypes *rt, struct rtype *t, int depth)
{
	const char *s = t->str, *dot, *br, *dir;
	size_t plen = t->pkgpath ? strlen(t->pkgpath) : 0;
	char *buf = NULL;
	int n = -1;

	if (t->name)
		return t->name;
	if (depth > NAME_DEPTH)
		return t->str;
	if (t->named) {
		/* "http.Request" in package "net/http"; "main.Pair[main.T]"; "go.shape.int" */
		dot = strchr(s, '.');
		br = strchr(s, '[');
		if (plen && dot && (!br || dot < br) &&
		    (strncmp(s, t->pkgpath, plen) != 0 || s[plen] != '.'))
			n = asprintf(&buf, "%s%s", t->pkgpath, dot);
	} else {
		switch (t->kind) {
		case RK_PTR:
			n = asprintf(&buf, "*%s", elem_name(rt, t->elem, depth));
			break;
		case RK_SLICE:
			n = asprintf(&buf, "[]%s", elem_name(rt, t->elem, depth));
			break;
		case RK_ARRAY:
			n = asprintf(&buf, "[%" PRIu64 "]%s", t->len,
				     elem_name(rt, t->elem, depth));
			break;
		case RK_MAP:
			n = asprintf(&buf, "map[%s]%s", elem_name(rt, t->key, depth),
				     elem_name(rt, t->elem, depth));
			break;
		case RK_CHAN:
			dir = t->chan_dir == 1 ? "<-chan " : t->chan_dir == 2 ? "chan<- " : "chan ";
			if (t->chan_dir == 3 && t->elem && t->elem->kind == RK_CHAN &&
			    t->elem->chan_dir == 1)
				n = asprintf(&buf, "chan (%s)", elem_name(rt, t->elem, depth));
			else
				n = asprintf(&buf, "%s%s", dir, elem_name(rt, t->elem, depth));
			break;
		default:
			break;
		}
	}
	if (n >= 0 && buf)
		s = gotypes__strdup(rt->arena, buf);
	free(buf);
	if (!s)
		s = t->str;
	if (depth == 0 || s == t->str)
		t->name = s;
	return s;
}

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct nameslot *name_slot(struct nameslot *tab, size_t mask, const char *key)
{
	size_t h = str_hash(key) & mask;

	while (tab[h].key && strcmp(tab[h].key, key) != 0)
		h = (h + 1) & mask;
	return &tab[h];
}

/* Every type by its full name, and by its runtime string where that differs; first wins. */
static int index_names(struct rtypes *rt)
{
	size_t size = 1024;

	while (size < rt->count * 4)
		size *= 2;
	rt->byname = calloc(size, sizeof(*rt->byname));
	if (!rt->byname)
		return -ENOMEM;
	rt->nmask = size - 1;
	for (size_t i = 0; i < rt->count; i++) {
		struct rtype *t = rt->all[i];
		const char *keys[2] = {full_name(rt, t, 0), t->str};

		for (int k = 0; k < 2; k++) {
			struct nameslot *s = name_slot(rt->byname, rt->nmask, keys[k]);

			if (!s->key)
				*s = (struct nameslot){keys[k], t};
		}
	}
	return 0;
}

/* Opening */

static int go_minor(struct gobin *gb)
{
	const struct gobin_info *in = gobin__info(gb);

	if (in->go_major == 1 && in->go_minor > 0)
		return in->go_minor;
	switch (in->pcln) {
	case GOBIN_PCLN_12:
		return 15;
	case GOBIN_PCLN_116:
		return in->regabi ? 17 : 16;
	case GOBIN_PCLN_118:
		return 18;
	default:
		return 20;
	}
}

static int read_all(struct rtypes *rt)
{
	size_t n = gobin__types(rt->gb, NULL, 0);
	uint64_t *roots = calloc(n ? n : 1, sizeof(*roots));
	int err;

	if (!roots)
		return -ENOMEM;
	n = gobin__types(rt->gb, roots, n);
	for (size_t i = 0; i < n; i++)
		get(rt, roots[i]);
	free(roots);
	err = find_itabs(rt);
	if (err)
		return err;
	rt->st.roots = rt->count;
	rt->st.itabs = rt->nitabs;
	/* every type found while reading one is appended, and read in turn */
	for (size_t i = 0; i < rt->count; i++)
		read_type(rt, rt->all[i]);
	rt->st.types = rt->count;
	err = index_methods(rt);
	return err ? err : index_names(rt);
}

int rtypes__open(struct gobin *gb, struct rtypes **out)
{
	struct rtypes *rt;
	int err;

	*out = NULL;
	if (!gb)
		return -EINVAL;
	rt = calloc(1, sizeof(*rt));
	if (!rt || !(rt->arena = gotypes__new())) {
		free(rt);
		return -ENOMEM;
	}
	rt->gb = gb;
	rt->minor = go_minor(gb);
	rt->text = gobin__info(gb)->text_start;
	if (gobin__types_range(gb, &rt->types, &rt->etypes)) {
		lp_seterr("%s: no runtime type information found", gobin__path(gb));
		rtypes__free(rt);
		return -ENOENT;
	}
	/* real binaries use a tenth of this or less (buf, Go 1.27: 137,000 of 1.5 million) */
	rt->budget = (rt->etypes - rt->types) / 4 + 65536;
	err = read_all(rt);
	if (err) {
		rtypes__free(rt);
		return err;
	}
	pr_debug("rtype: %s: %zu types (%zu listed, %zu itabs), %zu method addresses, %zu errors, "
		 "%" PRIu64 " parts to spare\n",
		 gobin__path(gb), rt->st.types, rt->st.roots, rt->st.itabs, rt->st.methods,
		 rt->st.errors, rt->budget);
	*out = rt;
	return 0;
}

void rtypes__free(struct rtypes *rt)
{
	if (!rt)
		return;
	gotypes__free(rt->arena);
	free(rt->all);
	free(rt->byaddr);
	free(rt->byname);
	free(rt->itabs);
	free(rt->sigs);
	free(rt->conv);
	free(rt);
}

/* Queries */

const struct rtypes_stats *rtypes__stats(const struct rtypes *rt)
{
	return &rt->st;
}

const struct rtype *rtypes__type(const struct rtypes *rt, size_t i)
{
	return rt && i < rt->count ? rt->all[i] : NULL;
}

const struct rtype *rtypes__lookup(const struct rtypes *rt, const char *name)
{
	const struct nameslot *s;

	if (!rt || !name || !rt->byname)
		return NULL;
	s = name_slot(rt->byname, rt->nmask, name);
	return s->key ? s->t : NULL;
}

const struct rtype *rtypes__at(const struct rtypes *rt, uint64_t addr)
{
	struct rtype *const *s;

	if (!rt || !rt->byaddr)
		return NULL;
	s = addr_slot(rt->byaddr, rt->amask, addr);
	return *s;
}

int rtypes__func_params(const struct rtypes *rt, uint64_t text, struct rtype_sig *out)
{
	size_t lo = 0, hi = rt ? rt->nsigs : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rt->sigs[mid].text == text) {
			*out = rt->sigs[mid].sig;
			return 0;
		}
		if (rt->sigs[mid].text < text)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

/* Breadth first through embedded struct values, as Go promotes fields. */
const struct rtype_field *rtype__field(const struct rtype *t, const char *name, uint64_t *offset)
{
	struct {
		const struct rtype *t;
		uint64_t base;
	} q[FIELD_QUEUE];
	size_t head = 0, tail = 0;

	if (!t || t->kind != RK_STRUCT || !name)
		return NULL;
	q[tail++].t = t;
	q[0].base = 0;
	for (int depth = 0; depth < FIELD_DEPTH && head < tail; depth++) {
		const struct rtype_field *found = NULL;
		size_t end = tail, hits = 0;
		uint64_t at = 0;

		for (; head < end; head++) {
			for (size_t i = 0; i < q[head].t->nfields; i++) {
				const struct rtype_field *f = &q[head].t->fields[i];

				if (strcmp(f->name, name) == 0) {
					found = f;
					at = q[head].base + f->offset;
					hits++;
				} else if (f->embedded && f->type && f->type->kind == RK_STRUCT &&
					   tail < FIELD_QUEUE) {
					q[tail].t = f->type;
					q[tail++].base = q[head].base + f->offset;
				}
			}
		}
		if (hits == 1) {
			if (offset)
				*offset = at;
			return found;
		}
		if (hits > 1)
			return NULL;
	}
	return NULL;
}

/* Conversion to the gotype model */

static struct conv *conv_slot(struct conv *tab, size_t mask, const struct rtype *t)
{
	size_t h = (size_t)((t->addr >> 3) * 0x9e3779b97f4a7c15ULL) & mask;

	while (tab[h].from && tab[h].from != t)
		h = (h + 1) & mask;
	return &tab[h];
}

static int conv_put(struct rtypes *rt, const struct rtype *t, struct gotype *g)
{
	if ((rt->conv_count + 1) * 2 > (rt->conv ? rt->conv_mask + 1 : 0)) {
		size_t size = rt->conv ? (rt->conv_mask + 1) * 2 : 256;
		struct conv *tab = calloc(size, sizeof(*tab));

		if (!tab)
			return -ENOMEM;
		for (size_t i = 0; rt->conv && i <= rt->conv_mask; i++)
			if (rt->conv[i].from)
				*conv_slot(tab, size - 1, rt->conv[i].from) = rt->conv[i];
		free(rt->conv);
		rt->conv = tab;
		rt->conv_mask = size - 1;
	}
	*conv_slot(rt->conv, rt->conv_mask, t) = (struct conv){t, g};
	rt->conv_count++;
	return 0;
}

static enum gokind gokind_of(const struct rtype *t)
{
	static const enum gokind kinds[] = {
		[RK_BOOL] = GK_BOOL,	   [RK_INT] = GK_INT,		[RK_INT8] = GK_INT,
		[RK_INT16] = GK_INT,	   [RK_INT32] = GK_INT,		[RK_INT64] = GK_INT,
		[RK_UINT] = GK_UINT,	   [RK_UINT8] = GK_UINT,	[RK_UINT16] = GK_UINT,
		[RK_UINT32] = GK_UINT,	   [RK_UINT64] = GK_UINT,	[RK_UINTPTR] = GK_UINTPTR,
		[RK_FLOAT32] = GK_FLOAT,   [RK_FLOAT64] = GK_FLOAT,	[RK_COMPLEX64] = GK_COMPLEX,
		[RK_COMPLEX128] = GK_COMPLEX, [RK_ARRAY] = GK_ARRAY,	[RK_CHAN] = GK_CHAN,
		[RK_FUNC] = GK_FUNC,	   [RK_INTERFACE] = GK_IFACE,	[RK_MAP] = GK_MAP,
		[RK_PTR] = GK_PTR,	   [RK_SLICE] = GK_SLICE,	[RK_STRING] = GK_STRING,
		[RK_STRUCT] = GK_STRUCT,   [RK_UNSAFEPTR] = GK_UNSAFEPTR,
	};

	if (t->kind >= sizeof(kinds) / sizeof(kinds[0]))
		return GK_INVALID;
	if (t->kind == RK_INTERFACE && !t->nimethods)
		return GK_EFACE;
	return kinds[t->kind];
}

static const struct gotype *to_gotype(struct rtypes *rt, const struct rtype *t, int depth);

/*
 * A part of a type. What cannot be converted (only in a damaged binary)
 * becomes a byte, so that no converted type lacks a part its kind has.
 */
static const struct gotype *part(struct rtypes *rt, const struct rtype *t, int depth)
{
	const struct gotype *g = t ? to_gotype(rt, t, depth + 1) : NULL;

	return g ? g : gotypes__builtin(rt->conv_ts, "uint8");
}

static int fill_gotype(struct rtypes *rt, const struct rtype *t, struct gotype *g, int depth)
{
	struct gofield *f;

	switch (g->kind) {
	case GK_MAP:
		g->key = part(rt, t->key, depth);
		/* fall through */
	case GK_PTR:
	case GK_SLICE:
	case GK_ARRAY:
	case GK_CHAN:
		g->elem = part(rt, t->elem, depth);
		g->len = t->len;
		break;
	default:
		break;
	}
	if (!t->nfields || g->kind != GK_STRUCT)
		return 0;
	f = gotypes__alloc(rt->conv_ts, t->nfields * sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < t->nfields; i++) {
		f[i].name = t->fields[i].name;
		f[i].offset = t->fields[i].offset;
		f[i].embedded = t->fields[i].embedded;
		f[i].type = part(rt, t->fields[i].type, depth);
	}
	g->fields = f;
	g->nfields = t->nfields;
	return 0;
}

static const struct gotype *to_gotype(struct rtypes *rt, const struct rtype *t, int depth)
{
	enum gokind kind = gokind_of(t);
	const struct gotype *b;
	struct gotype *g;
	struct conv *c;

	if (rt->conv && (c = conv_slot(rt->conv, rt->conv_mask, t))->from)
		return c->to;
	if (kind == GK_INVALID || depth > GOTYPE_DEPTH)
		return NULL;
	/* int, string, error, any...: the registry's own */
	b = gotypes__builtin(rt->conv_ts, t->name);
	if (b && b->kind == kind && b->size == t->size)
		return b;
	g = gotypes__new_type(rt->conv_ts, kind, t->name, t->size, t->align ? t->align : 1);
	/* in the table before its parts, so that a recursive type ends here */
	if (!g || conv_put(rt, t, g) || fill_gotype(rt, t, g, depth))
		return NULL;
	return g;
}

const struct gotype *rtypes__gotype(struct rtypes *rt, const struct rtype *t, struct gotypes *ts)
{
	if (!rt || !t || !ts)
		return NULL;
	if (rt->conv_ts != ts) {
		free(rt->conv);
		rt->conv = NULL;
		rt->conv_count = 0;
		rt->conv_ts = ts;
	}
	return to_gotype(rt, t, 0);
}
