// SPDX-License-Identifier: BSD-2-Clause
/*
 * Parameter names and types of Go functions from DWARF, through libdw.
 *
 * Go emits one compile unit per package (a few more for assembly), named by
 * the package path, and puts every type DIE in the runtime unit. Nothing is
 * read at open time but the unit headers: the functions of a unit are
 * indexed the first time a function of its package is looked up, the types
 * the first time a type is, and each type DIE is converted once (memoized
 * by DIE offset, which also ends the recursion of recursive types).
 *
 * What Go puts in DWARF, by reflect.Kind (DW_AT_go_kind), from
 * cmd/link/internal/ld/dwarf.go:
 *   numbers, bool     DW_TAG_base_type with DW_AT_encoding and byte size
 *   string            DW_TAG_structure_type {str *uint8; len int}
 *   slice             DW_TAG_structure_type {array; len; cap} + DW_AT_go_elem
 *   array             DW_TAG_array_type + a DW_TAG_subrange_type with DW_AT_count
 *   pointer           DW_TAG_pointer_type; unsafe.Pointer has no DW_AT_type
 *   struct            DW_TAG_structure_type, DW_TAG_member children
 *   interface         DW_TAG_typedef of runtime.iface or runtime.eface
 *   map, chan         DW_TAG_typedef of a pointer to the runtime header, with
 *                     DW_AT_go_key/DW_AT_go_elem
 *   func              DW_TAG_subroutine_type
 * A named type other than a number, bool or string also gets a plain
 * DW_TAG_typedef of the same name in front of its definition; references
 * point at the typedef.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "godwarf.h"
#include "log.h"

/* Go's own attributes (cmd/internal/dwarf). */
#define DW_AT_go_kind		0x2900
#define DW_AT_go_key		0x2901
#define DW_AT_go_elem		0x2902
#define DW_AT_go_embedded_field 0x2903

/* Type definitions nest this deep only in corrupted DWARF (real cycles pass through the memo). */
#define CONV_MAX_DEPTH 200

struct cu {
	const char *pkg; /* package path, escaped as in Go symbol names */
	Dwarf_Off off;	 /* offset of the unit's DIE */
	bool funcs_indexed;
};

struct fn {
	const char *name;
	Dwarf_Off die;
	Dwarf_Addr lowpc;	 /* 0 if unknown */
	struct fn *next_same;	 /* same DWARF name */
	struct fn *next_generic; /* same name with type arguments elided */
	bool loaded;
	int err;
	struct goparam *params;
	size_t nparams;
};

/* String-keyed open-addressing table; values are pointers or DIE offsets. */
struct strmap {
	struct strent {
		const char *key;
		uint64_t val;
	} * tab;
	size_t n, cap;
};

/* DIE offset -> converted type. */
struct offmap {
	struct offent {
		Dwarf_Off key; /* 0 = empty: no DIE lives at offset 0 */
		const struct gotype *val;
	} * tab;
	size_t n, cap;
};

struct godwarf {
	int fd;
	Elf *elf;
	Dwarf *dbg;
	struct gotypes *ts;  /* where converted types live */
	struct gotypes *mem; /* our own arena: indexes, parameter lists */
	struct cu *cus;
	size_t ncus;
	bool all_funcs_indexed;
	bool types_indexed;
	struct strmap funcs;   /* DWARF name -> struct fn list */
	struct strmap generic; /* name with "[...]" -> struct fn list */
	struct strmap types;   /* type name -> DIE offset */
	struct offmap memo;
	const struct gotype *invalid;
};

/* --- tables ------------------------------------------------------------------------------- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct strent *strmap_slot(struct strent *tab, size_t cap, const char *key)
{
	size_t i = str_hash(key) & (cap - 1);

	while (tab[i].key && strcmp(tab[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static struct strent *strmap_get(const struct strmap *m, const char *key)
{
	struct strent *e;

	if (!m->cap)
		return NULL;
	e = strmap_slot(m->tab, m->cap, key);
	return e->key ? e : NULL;
}

/* The entry for key, created (with val 0) if absent; NULL when out of memory. */
static struct strent *strmap_put(struct strmap *m, const char *key)
{
	struct strent *e;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256, i;
		struct strent *tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return NULL;
		for (i = 0; i < m->cap; i++) {
			if (m->tab[i].key)
				*strmap_slot(tab, cap, m->tab[i].key) = m->tab[i];
		}
		free(m->tab);
		m->tab = tab;
		m->cap = cap;
	}
	e = strmap_slot(m->tab, m->cap, key);
	if (!e->key) {
		e->key = key;
		m->n++;
	}
	return e;
}

static struct offent *offmap_slot(struct offent *tab, size_t cap, Dwarf_Off key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);

	while (tab[i].key && tab[i].key != key)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static const struct gotype *offmap_get(const struct offmap *m, Dwarf_Off key)
{
	return m->cap ? offmap_slot(m->tab, m->cap, key)->val : NULL;
}

static int offmap_put(struct offmap *m, Dwarf_Off key, const struct gotype *val)
{
	struct offent *e;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024, i;
		struct offent *tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return -ENOMEM;
		for (i = 0; i < m->cap; i++) {
			if (m->tab[i].key)
				*offmap_slot(tab, cap, m->tab[i].key) = m->tab[i];
		}
		free(m->tab);
		m->tab = tab;
		m->cap = cap;
	}
	e = offmap_slot(m->tab, m->cap, key);
	if (!e->key)
		m->n++;
	e->key = key;
	e->val = val;
	return 0;
}

/* --- names -------------------------------------------------------------------------------- */

/*
 * Go escapes a package path in symbol names (cmd/internal/objabi.PathToPrefix):
 * control characters, space, '%', '"', non-ASCII bytes and the dots of the
 * last path element become %xx, so "gopkg.in/yaml.v2" reads "gopkg.in/yaml%2ev2".
 */
static const char *escape_pkg(struct gotypes *mem, const char *path)
{
	static const char hex[] = "0123456789abcdef";
	const char *slash = strrchr(path, '/');
	size_t n = 0, i, j;
	char *out;

	/* Import paths cannot contain '%': such a name is escaped already. */
	if (strchr(path, '%'))
		return gotypes__strdup(mem, path);
	for (i = 0; path[i]; i++) {
		unsigned char c = (unsigned char)path[i];

		n += (c <= ' ' || (c == '.' && (!slash || path + i > slash)) || c == '%' ||
		      c == '"' || c >= 0x7f)
			     ? 3
			     : 1;
	}
	out = gotypes__alloc(mem, n + 1);
	if (!out)
		return NULL;
	for (i = 0, j = 0; path[i]; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c <= ' ' || (c == '.' && (!slash || path + i > slash)) || c == '%' ||
		    c == '"' || c >= 0x7f) {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 0xf];
		} else {
			out[j++] = (char)c;
		}
	}
	out[j] = '\0';
	return out;
}

/*
 * The package of a function symbol: up to the first '.' after the last '/',
 * looking only before any type arguments ("main.Map[net/http.Header]" is in
 * main). Returns the length of the package part, 0 if there is none.
 */
static size_t func_pkg_len(const char *name)
{
	const char *end = strchr(name, '['), *p, *start = name, *dot;

	if (!end)
		end = name + strlen(name);
	for (p = name; p < end; p++) {
		if (*p == '/')
			start = p + 1;
	}
	dot = memchr(start, '.', (size_t)(end - start));
	return dot ? (size_t)(dot - name) : 0;
}

/*
 * A generic function's name with each type-argument list replaced by
 * "[...]": "main.Map[go.shape.int_0,go.shape.string_1]" and
 * "main.Map[go.shape.int,go.shape.string]" both give "main.Map[...]", as
 * does "main.Map[...]" itself. NULL if name has no type arguments.
 */
static const char *generic_key(struct gotypes *mem, const char *name)
{
	size_t j = 0;
	int nest = 0;
	char *out;

	if (!strchr(name, '['))
		return NULL;
	/* Worst case "[]" becomes "[...]". */
	out = gotypes__alloc(mem, 3 * strlen(name) + 1);
	if (!out)
		return NULL;
	for (const char *p = name; *p; p++) {
		if (*p == '[') {
			if (nest++ == 0) {
				memcpy(out + j, "[...", 4);
				j += 4;
			}
		} else if (*p == ']') {
			if (nest > 0 && --nest == 0)
				out[j++] = ']';
		} else if (nest == 0) {
			out[j++] = *p;
		}
	}
	out[j] = '\0';
	return out;
}

/* --- attributes --------------------------------------------------------------------------- */

static bool attr_udata(Dwarf_Die *die, unsigned at, Dwarf_Word *v)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, at, &a) && dwarf_formudata(&a, v) == 0;
}

static bool attr_flag(Dwarf_Die *die, unsigned at)
{
	Dwarf_Attribute a;
	bool f = false;

	return dwarf_attr_integrate(die, at, &a) && dwarf_formflag(&a, &f) == 0 && f;
}

static const char *attr_string(Dwarf_Die *die, unsigned at)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, at, &a) ? dwarf_formstring(&a) : NULL;
}

static bool attr_die(Dwarf_Die *die, unsigned at, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, at, &a) && dwarf_formref_die(&a, out);
}

/* DW_AT_data_member_location: a constant, or DW_OP_plus_uconst in old producers. */
static bool member_offset(Dwarf_Die *die, Dwarf_Word *off)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr(die, DW_AT_data_member_location, &a))
		return false;
	if (dwarf_formudata(&a, off) == 0)
		return true;
	if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
	    ops[0].atom == DW_OP_plus_uconst) {
		*off = ops[0].number;
		return true;
	}
	return false;
}

/* --- types -------------------------------------------------------------------------------- */

static const struct gotype *conv(struct godwarf *dw, Dwarf_Die *die, int depth);

static const struct gotype *conv_ref(struct godwarf *dw, Dwarf_Die *die, unsigned at, int depth)
{
	Dwarf_Die t;

	if (!attr_die(die, at, &t))
		return dw->invalid;
	return conv(dw, &t, depth + 1);
}

/* Record t for die; NULL (out of memory) passes through. */
static struct gotype *remember(struct godwarf *dw, Dwarf_Off off, struct gotype *t)
{
	if (t && offmap_put(&dw->memo, off, t))
		return NULL;
	return t;
}

static const struct gotype *conv_base(struct godwarf *dw, Dwarf_Die *die, const char *name,
				      Dwarf_Word rk, Dwarf_Word size)
{
	const struct gotype *b = name ? gotypes__builtin(dw->ts, name) : NULL;
	enum gokind kind;
	uint32_t align;

	if (rk == RK_BOOL)
		kind = GK_BOOL;
	else if (rk >= RK_INT && rk <= RK_INT64)
		kind = GK_INT;
	else if (rk >= RK_UINT && rk <= RK_UINT64)
		kind = GK_UINT;
	else if (rk == RK_UINTPTR)
		kind = GK_UINTPTR;
	else if (rk == RK_FLOAT32 || rk == RK_FLOAT64)
		kind = GK_FLOAT;
	else
		kind = GK_COMPLEX;
	/* The predeclared types are shared, so that identity means what it does in Go. */
	if (b && b->kind == kind && b->size == size)
		return b;
	align = kind == GK_COMPLEX ? (uint32_t)size / 2 : (uint32_t)size;
	if (align > 8)
		align = 8;
	if (!align)
		align = 1;
	return remember(dw, dwarf_dieoffset(die),
			gotypes__new_type(dw->ts, kind, name, size, align));
}

/* reflect.Kind of a DIE without DW_AT_go_kind (C types, or runtime types the linker made up). */
static Dwarf_Word kind_from_tag(Dwarf_Die *die)
{
	Dwarf_Word enc;

	switch (dwarf_tag(die)) {
	case DW_TAG_base_type:
		if (!attr_udata(die, DW_AT_encoding, &enc))
			return 0;
		switch (enc) {
		case DW_ATE_boolean:
			return RK_BOOL;
		/* Only the category matters: the size comes from DW_AT_byte_size. */
		case DW_ATE_signed:
		case DW_ATE_signed_char:
			return RK_INT;
		case DW_ATE_unsigned:
		case DW_ATE_unsigned_char:
			return RK_UINT;
		case DW_ATE_float:
			return RK_FLOAT64;
		case DW_ATE_complex_float:
			return RK_COMPLEX128;
		default:
			return 0;
		}
	case DW_TAG_pointer_type:
		return dwarf_hasattr(die, DW_AT_type) ? RK_PTR : RK_UNSAFEPTR;
	case DW_TAG_structure_type:
		return RK_STRUCT;
	case DW_TAG_array_type:
		return RK_ARRAY;
	case DW_TAG_subroutine_type:
		return RK_FUNC;
	default:
		return 0;
	}
}

static const struct gotype *conv_struct(struct godwarf *dw, Dwarf_Die *die, const char *name,
					Dwarf_Word size, int depth)
{
	struct gotype *t = remember(dw, dwarf_dieoffset(die),
				    gotypes__new_type(dw->ts, GK_STRUCT, name, size, 1));
	struct gofield *fields;
	Dwarf_Die child;
	size_t n = 0, i = 0;
	uint32_t align = 1;

	if (!t)
		return NULL;
	if (dwarf_child(die, &child) == 0) {
		do {
			if (dwarf_tag(&child) == DW_TAG_member)
				n++;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (!n)
		goto done;
	fields = gotypes__alloc(dw->ts, n * sizeof(*fields));
	if (!fields || dwarf_child(die, &child) != 0)
		return NULL;
	do {
		struct gofield *f;
		Dwarf_Word off = 0;
		const char *fname;

		if (dwarf_tag(&child) != DW_TAG_member || i == n)
			continue;
		f = &fields[i++];
		fname = dwarf_diename(&child);
		f->name = fname ? gotypes__strdup(dw->ts, fname) : NULL;
		member_offset(&child, &off);
		f->offset = off;
		f->embedded = attr_flag(&child, DW_AT_go_embedded_field);
		f->type = conv_ref(dw, &child, DW_AT_type, depth);
		if (!f->type || (fname && !f->name))
			return NULL;
		if (f->type->align > align)
			align = f->type->align;
	} while (dwarf_siblingof(&child, &child) == 0);
	t->fields = fields;
	t->nfields = i;
done:
	/* atomic.align64 is empty yet 8-aligned: the compiler knows it by name, DWARF does not say.
	 */
	if (name && size == 0 && strstr(name, "atomic.align64"))
		align = 8;
	t->align = align;
	return t;
}

static const struct gotype *conv(struct godwarf *dw, Dwarf_Die *die, int depth)
{
	Dwarf_Off off = dwarf_dieoffset(die);
	const struct gotype *done = offmap_get(&dw->memo, off);
	const char *name;
	Dwarf_Word rk = 0, size = 0;
	struct gotype *t;
	Dwarf_Die target, child;
	int tag;

	if (done)
		return done;
	if (depth > CONV_MAX_DEPTH) {
		pr_debug("godwarf: type DIE %#lx nested too deeply\n", (unsigned long)off);
		return dw->invalid;
	}
	tag = dwarf_tag(die);
	name = dwarf_diename(die);
	attr_udata(die, DW_AT_byte_size, &size);

	/*
	 * Kind 0 is no kind: Go 1.19 writes it for some pointer types (*uintptr),
	 * which are pointers, 8 bytes, whatever that attribute says.
	 */
	if (!attr_udata(die, DW_AT_go_kind, &rk) || !rk) {
		if (tag == DW_TAG_typedef) {
			/* The name in front of a definition, or a type parameter's ".paramN". */
			const struct gotype *u = conv_ref(dw, die, DW_AT_type, depth);

			if (u && offmap_put(&dw->memo, off, u))
				return NULL;
			return u;
		}
		rk = kind_from_tag(die);
	}

	switch (rk) {
	case RK_BOOL ... RK_COMPLEX128:
		return conv_base(dw, die, name, rk, size);
	case RK_STRING:
		if (name && strcmp(name, "string") == 0)
			return gotypes__builtin(dw->ts, "string");
		return remember(dw, off, gotypes__new_type(dw->ts, GK_STRING, name, 16, 8));
	case RK_UNSAFEPTR:
		if (name && strcmp(name, "unsafe.Pointer") == 0)
			return gotypes__builtin(dw->ts, "unsafe.Pointer");
		return remember(dw, off, gotypes__new_type(dw->ts, GK_UNSAFEPTR, name, 8, 8));
	case RK_FUNC:
		return remember(dw, off, gotypes__new_type(dw->ts, GK_FUNC, name, 8, 8));
	case RK_INTERFACE: {
		const char *under =
			attr_die(die, DW_AT_type, &target) ? dwarf_diename(&target) : NULL;
		bool empty = under && strcmp(under, "runtime.eface") == 0;

		if (name && strcmp(name, "error") == 0)
			return gotypes__builtin(dw->ts, "error");
		if (empty && name && strcmp(name, "interface {}") == 0)
			return gotypes__builtin(dw->ts, "any");
		return remember(
			dw, off,
			gotypes__new_type(dw->ts, empty ? GK_EFACE : GK_IFACE, name, 16, 8));
	}
	case RK_PTR:
		t = remember(dw, off, gotypes__new_type(dw->ts, GK_PTR, name, 8, 8));
		if (t && !(t->elem = conv_ref(dw, die, DW_AT_type, depth)))
			return NULL;
		return t;
	case RK_CHAN:
		t = remember(dw, off, gotypes__new_type(dw->ts, GK_CHAN, name, 8, 8));
		if (t && !(t->elem = conv_ref(dw, die, DW_AT_go_elem, depth)))
			return NULL;
		return t;
	case RK_MAP:
		t = remember(dw, off, gotypes__new_type(dw->ts, GK_MAP, name, 8, 8));
		if (t && (!(t->key = conv_ref(dw, die, DW_AT_go_key, depth)) ||
			  !(t->elem = conv_ref(dw, die, DW_AT_go_elem, depth))))
			return NULL;
		return t;
	case RK_SLICE:
		t = remember(dw, off, gotypes__new_type(dw->ts, GK_SLICE, name, 24, 8));
		if (!t)
			return NULL;
		if (dwarf_hasattr(die, DW_AT_go_elem)) {
			t->elem = conv_ref(dw, die, DW_AT_go_elem, depth);
		} else {
			/* Without DW_AT_go_elem the element is what the array field points to. */
			const struct gotype *arr = dw->invalid;

			if (dwarf_child(die, &child) == 0) {
				do {
					const char *m = dwarf_diename(&child);

					if (m && strcmp(m, "array") == 0) {
						arr = conv_ref(dw, &child, DW_AT_type, depth);
						break;
					}
				} while (dwarf_siblingof(&child, &child) == 0);
			}
			t->elem = arr && arr->kind == GK_PTR && arr->elem ? arr->elem : dw->invalid;
		}
		return t->elem ? t : NULL;
	case RK_ARRAY: {
		Dwarf_Word count = 0, upper;

		t = remember(dw, off, gotypes__new_type(dw->ts, GK_ARRAY, name, size, 1));
		if (!t || !(t->elem = conv_ref(dw, die, DW_AT_type, depth)))
			return NULL;
		if (dwarf_child(die, &child) == 0) {
			do {
				if (dwarf_tag(&child) != DW_TAG_subrange_type)
					continue;
				if (!attr_udata(&child, DW_AT_count, &count) &&
				    attr_udata(&child, DW_AT_upper_bound, &upper))
					count = upper + 1;
				break;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		t->len = count;
		t->align = t->elem->align ? t->elem->align : 1;
		if (!dwarf_hasattr(die, DW_AT_byte_size))
			t->size = t->elem->size * count;
		return t;
	}
	case RK_STRUCT:
		return conv_struct(dw, die, name, size, depth);
	default:
		return remember(dw, off, gotypes__new_type(dw->ts, GK_INVALID, name, size, 1));
	}
}

/* --- units and indexes -------------------------------------------------------------------- */

static int index_funcs(struct godwarf *dw, struct cu *cu)
{
	Dwarf_Die cudie, d;
	size_t n = 0;

	cu->funcs_indexed = true;
	if (!dwarf_offdie(dw->dbg, cu->off, &cudie) || dwarf_child(&cudie, &d) != 0)
		return 0;
	do {
		struct strent *e;
		struct fn *f;
		const char *name, *gkey;

		/* An abstract DIE (DW_AT_inline) only describes inlined copies: no code of its own.
		 */
		if (dwarf_tag(&d) != DW_TAG_subprogram || dwarf_hasattr(&d, DW_AT_inline))
			continue;
		name = attr_string(&d, DW_AT_name);
		if (!name)
			continue;
		f = gotypes__alloc(dw->mem, sizeof(*f));
		if (!f || !(e = strmap_put(&dw->funcs, name)))
			return -ENOMEM;
		f->name = name;
		f->die = dwarf_dieoffset(&d);
		if (dwarf_lowpc(&d, &f->lowpc) != 0)
			f->lowpc = 0;
		f->next_same = (struct fn *)(uintptr_t)e->val;
		e->val = (uintptr_t)f;
		gkey = generic_key(dw->mem, name);
		if (gkey) {
			e = strmap_put(&dw->generic, gkey);
			if (!e)
				return -ENOMEM;
			f->next_generic = (struct fn *)(uintptr_t)e->val;
			e->val = (uintptr_t)f;
		}
		n++;
	} while (dwarf_siblingof(&d, &d) == 0);
	pr_debug("godwarf: %s: %zu functions\n", cu->pkg, n);
	return 0;
}

/* Index the units of package pkg (len bytes), or every unit when pkg is NULL. */
static int index_pkg(struct godwarf *dw, const char *pkg, size_t len)
{
	size_t i;
	int err;

	if (dw->all_funcs_indexed)
		return 0;
	for (i = 0; i < dw->ncus; i++) {
		struct cu *cu = &dw->cus[i];

		if (cu->funcs_indexed)
			continue;
		if (pkg && (strncmp(cu->pkg, pkg, len) != 0 || cu->pkg[len] != '\0'))
			continue;
		err = index_funcs(dw, cu);
		if (err)
			return err;
	}
	if (!pkg)
		dw->all_funcs_indexed = true;
	return 0;
}

/* Types live in the runtime unit(s); index their top-level named DIEs once. */
static int index_types(struct godwarf *dw)
{
	size_t i;

	if (dw->types_indexed)
		return 0;
	dw->types_indexed = true;
	for (i = 0; i < dw->ncus; i++) {
		Dwarf_Die cudie, d;

		if (strcmp(dw->cus[i].pkg, "runtime") != 0 ||
		    !dwarf_offdie(dw->dbg, dw->cus[i].off, &cudie) || dwarf_child(&cudie, &d) != 0)
			continue;
		do {
			const char *name;
			struct strent *e;

			switch (dwarf_tag(&d)) {
			case DW_TAG_base_type:
			case DW_TAG_typedef:
			case DW_TAG_structure_type:
			case DW_TAG_pointer_type:
			case DW_TAG_array_type:
			case DW_TAG_subroutine_type:
				break;
			default:
				continue;
			}
			name = dwarf_diename(&d);
			if (!name)
				continue;
			e = strmap_put(&dw->types, name);
			if (!e)
				return -ENOMEM;
			/* A named type's typedef follows its definition; either leads to the same
			 * type. */
			if (!e->val)
				e->val = dwarf_dieoffset(&d);
		} while (dwarf_siblingof(&d, &d) == 0);
	}
	pr_debug("godwarf: %zu type names\n", dw->types.n);
	return 0;
}

/* --- parameters --------------------------------------------------------------------------- */

/*
 * A function instantiated for shapes ("pkg.Map[go.shape.int_0]", methods
 * "pkg.(*List[go.shape.int]).Push") takes the dictionary of its type
 * arguments as a first parameter that DWARF leaves out, yet it occupies an
 * integer register or stack word. Closures inside them
 * ("pkg.Map[go.shape.int].func1") reach it through their context instead.
 * Returns 0 (no dictionary), 1 (a function) or 2 (a method).
 */
static int takes_dict(const char *name)
{
	const char *close = strrchr(name, ']');

	if (!strstr(name, "go.shape.") || !close)
		return 0;
	close++;
	if (*close == '\0')
		return 1;
	return strncmp(close, ").", 2) == 0 && !strpbrk(close + 2, ".-") ? 2 : 0;
}

/*
 * The Go release that compiled die's unit ("Go cmd/compile go1.26.8;
 * regabi"): its minor number, 0 when the producer does not say.
 */
static int producer_minor(Dwarf_Die *die)
{
	Dwarf_Die cu;
	Dwarf_Attribute a;
	const char *s, *v;

	if (!dwarf_diecu(die, &cu, NULL, NULL) || !dwarf_attr(&cu, DW_AT_producer, &a))
		return 0;
	s = dwarf_formstring(&a);
	v = s ? strstr(s, " go1.") : NULL;
	return v ? atoi(v + 5) : 0;
}

#define MAX_SEEN 32

static bool seen_result(const char *const *seen, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(seen[i], name) == 0)
			return true;
	return false;
}

static int load_params(struct godwarf *dw, struct fn *f, const char *lookup_name)
{
	const char *seen[MAX_SEEN];
	size_t nseen = 0;
	struct goparam *params = NULL, *p;
	size_t n = 0, cap = 0, nres = 0, dict_at = 0;
	Dwarf_Die die, child;
	char buf[32];
	int shaped, minor;

	if (!dwarf_offdie(dw->dbg, f->die, &die))
		return -ENOENT;
	shaped = takes_dict(strstr(lookup_name, "go.shape.") ? lookup_name : f->name);
	if (shaped == 2) {
		/*
		 * A method's dictionary comes before its receiver in Go 1.18 and
		 * 1.19, after it from 1.20 (the unified IR front end). Not knowing
		 * the release, leave it out: the parameters then do not add up to
		 * the argument size and nothing is guessed.
		 */
		minor = producer_minor(&die);
		if (!minor)
			shaped = 0;
		else if (minor >= 20)
			dict_at = 1;
	}
	if (dwarf_child(&die, &child) == 0) {
		do {
			if (dwarf_tag(&child) == DW_TAG_formal_parameter)
				cap++;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	cap += shaped != 0;
	if (cap) {
		params = gotypes__alloc(dw->mem, cap * sizeof(*params));
		if (!params)
			return -ENOMEM;
	}
	if (shaped && !dict_at)
		params[n++] = (struct goparam){.name = ".dict",
					       .type = gotypes__builtin(dw->ts, "unsafe.Pointer")};
	if (dwarf_child(&die, &child) == 0) {
		do {
			const char *name;

			if (dwarf_tag(&child) != DW_TAG_formal_parameter || n == cap)
				continue;
			if (shaped && dict_at && n == dict_at) {
				params[n++] = (struct goparam){
					.name = ".dict",
					.type = gotypes__builtin(dw->ts, "unsafe.Pointer")};
				dict_at = 0;
			}
			p = &params[n++];
			p->is_result = attr_flag(&child, DW_AT_variable_parameter);
			name = attr_string(&child, DW_AT_name);
			/*
			 * Go 1.19 lists the unnamed results of a function with a defer
			 * twice (~r0 ~r0 ~r1 ~r1, golang/go#61357), Go 1.26 a named one
			 * (r int, r int, err error): keep the first. No two results
			 * share a name otherwise ("_" aside).
			 */
			if (p->is_result && name && strcmp(name, "_") != 0 &&
			    seen_result(seen, nseen, name)) {
				n--;
				continue;
			}
			if (p->is_result && name && strcmp(name, "_") != 0 && nseen < MAX_SEEN)
				seen[nseen++] = name;
			p->type = conv_ref(dw, &child, DW_AT_type, 0);
			if (!p->type)
				return -ENOMEM;
			/*
			 * Results Go names itself are "~r0" (1.19) or "~r2" (counting the
			 * parameters, older releases), "~b1" for "_": number them among the
			 * results so a script reads the same name from every release.
			 */
			if (p->is_result && (!name || name[0] == '~')) {
				snprintf(buf, sizeof(buf), "~r%zu", nres);
				name = buf;
			} else if (!name) {
				snprintf(buf, sizeof(buf), "~p%zu", n - 1 - (shaped != 0));
				name = buf;
			}
			p->name = gotypes__strdup(dw->mem, name);
			if (!p->name)
				return -ENOMEM;
			nres += p->is_result;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (shaped && dict_at && n == dict_at && n < cap) /* a receiver and nothing else */
		params[n++] = (struct goparam){.name = ".dict",
					       .type = gotypes__builtin(dw->ts, "unsafe.Pointer")};
	f->params = params;
	f->nparams = n;
	return 0;
}

/*
 * Several instances of a generic function can share a DWARF name
 * ("main.Map[...]"): only the entry address tells them apart. Returns the
 * instance at entry, or with no entry the only candidate.
 */
static struct fn *pick_generic(struct fn *list, uint64_t entry)
{
	struct fn *f;

	if (!entry)
		return list && !list->next_generic ? list : NULL;
	for (f = list; f; f = f->next_generic) {
		if (f->lowpc == entry)
			return f;
	}
	return NULL;
}

static struct fn *find_fn(struct godwarf *dw, const char *func, uint64_t entry)
{
	struct strent *e = strmap_get(&dw->funcs, func);
	const char *gkey;
	struct fn *f;

	if (e) {
		f = (struct fn *)(uintptr_t)e->val;
		/*
		 * The exact name is the function, even at another address: Go
		 * gives an ABI wrapper the name of the function it wraps, and
		 * DWARF describes only the function.
		 */
		if (!f->next_same || !entry)
			return f;
		for (; f; f = f->next_same) {
			if (f->lowpc == entry)
				return f;
		}
		return (struct fn *)(uintptr_t)e->val;
	}
	gkey = generic_key(dw->mem, func);
	e = gkey ? strmap_get(&dw->generic, gkey) : NULL;
	if (!e)
		return NULL;
	f = pick_generic((struct fn *)(uintptr_t)e->val, entry);
	if (!f)
		pr_debug("godwarf: %s: several instances of %s in DWARF, none at %#lx\n", func,
			 gkey, (unsigned long)entry);
	return f;
}

int godwarf__func_params_at(struct godwarf *dw, const char *func, uint64_t entry,
			    const struct goparam **params, size_t *n)
{
	size_t plen = func_pkg_len(func);
	struct fn *f;
	int err;

	if (!plen)
		return -ENOENT;
	err = index_pkg(dw, func, plen);
	if (err)
		return err;
	f = find_fn(dw, func, entry);
	/* Instances of generic functions go to the unit of the package that instantiated them. */
	if (!f && (strstr(func, "go.shape.") || strstr(func, "[...]")) && !dw->all_funcs_indexed) {
		err = index_pkg(dw, NULL, 0);
		if (err)
			return err;
		f = find_fn(dw, func, entry);
	}
	if (!f)
		return -ENOENT;
	if (!f->loaded) {
		f->err = load_params(dw, f, func);
		f->loaded = true;
	}
	if (f->err)
		return f->err;
	*params = f->params;
	*n = f->nparams;
	return 0;
}

int godwarf__func_params(struct godwarf *dw, const char *func, const struct goparam **params,
			 size_t *n)
{
	return godwarf__func_params_at(dw, func, 0, params, n);
}

static const struct gotype *type_by_name(void *ctx, const char *name)
{
	struct godwarf *dw = ctx;
	struct strent *e;
	Dwarf_Die die;

	if (index_types(dw))
		return NULL;
	e = strmap_get(&dw->types, name);
	if (!e || !dwarf_offdie(dw->dbg, (Dwarf_Off)e->val, &die))
		return NULL;
	return conv(dw, &die, 0);
}

const struct gotype *godwarf__type(struct godwarf *dw, const char *name)
{
	const struct gotype *t = type_by_name(dw, name);

	/* Composite spellings DWARF has no DIE for ("*main.T" when unused, "[]main.T"). */
	if (!t && gotypes__parse(dw->ts, name, type_by_name, dw, &t, NULL, 0))
		return NULL;
	return t;
}

/* --- open / free -------------------------------------------------------------------------- */

static int load_units(struct godwarf *dw)
{
	Dwarf_CU *cu = NULL, *next;
	size_t cap = 0;
	int ret;

	for (;;) {
		Dwarf_Die cudie, sub;
		Dwarf_Half version;
		uint8_t unit_type;
		const char *name;

		ret = dwarf_get_units(dw->dbg, cu, &next, &version, &unit_type, &cudie, &sub);
		if (ret != 0)
			break;
		cu = next;
		if (dwarf_tag(&cudie) != DW_TAG_compile_unit || !(name = dwarf_diename(&cudie)))
			continue;
		if (dw->ncus == cap) {
			struct cu *p;

			cap = cap ? cap * 2 : 64;
			p = gotypes__alloc(dw->mem, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			if (dw->ncus)
				memcpy(p, dw->cus, dw->ncus * sizeof(*p));
			dw->cus = p;
		}
		dw->cus[dw->ncus].off = dwarf_dieoffset(&cudie);
		dw->cus[dw->ncus].pkg = escape_pkg(dw->mem, name);
		dw->cus[dw->ncus].funcs_indexed = false;
		if (!dw->cus[dw->ncus].pkg)
			return -ENOMEM;
		dw->ncus++;
	}
	return ret < 0 ? -EINVAL : 0;
}

/*
 * Debug sections luprobe never reads. libdw decompresses every debug
 * section it knows when it opens the file, and Go compresses them all:
 * line tables, location lists, ranges and frames are two thirds of that
 * work and nothing here needs them.
 */
static const char *const unread_sections[] = {
	"line",	   "loc",      "loclists", "ranges",  "rnglists", "frame",
	"aranges", "pubnames", "pubtypes", "macinfo", "macro",
};

static bool unread_section(const char *name)
{
	size_t i;

	if (strncmp(name, ".debug_", 7) == 0)
		name += 7;
	else if (strncmp(name, ".zdebug_", 8) == 0)
		name += 8;
	else
		return false;
	for (i = 0; i < sizeof(unread_sections) / sizeof(unread_sections[0]); i++) {
		if (strcmp(name, unread_sections[i]) == 0)
			return true;
	}
	return false;
}

/*
 * Whether there is a .debug_info (or .zdebug_info, as Go 1.11-1.15
 * compressed it). Hides the sections luprobe never reads from libdw by
 * giving them the empty name, in our private copy of the headers only.
 */
static bool prepare_sections(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	bool info = false;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		const char *name;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!name)
			continue;
		if (strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0) {
			info = true;
		} else if (unread_section(name)) {
			shdr.sh_name = 0;
			gelf_update_shdr(scn, &shdr);
		}
	}
	return info;
}

/*
 * Open from the file at path (buf NULL) or from the image in buf, which
 * libelf reads in place.
 */
static int open_common(const char *path, int fd, void *buf, size_t len, struct gotypes *ts,
		       struct godwarf **out)
{
	struct godwarf *dw;
	int err;

	*out = NULL;
	dw = calloc(1, sizeof(*dw));
	if (!dw)
		return -ENOMEM;
	dw->fd = -1;
	dw->ts = ts;
	dw->mem = gotypes__new();
	if (!dw->mem) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* In ts: types that outlive dw may point at it. */
	dw->invalid = gotypes__new_type(ts, GK_INVALID, "?", 0, 1);
	if (!dw->invalid) {
		err = -ENOMEM;
		goto cleanup;
	}

	if (!buf) {
		dw->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : open(path, O_RDONLY | O_CLOEXEC);
		if (dw->fd < 0) {
			err = -errno;
			lp_seterr("%s: cannot open: %s", path, strerror(errno));
			goto cleanup;
		}
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		err = -EINVAL;
		lp_seterr("%s: libelf is unusable: %s", path, elf_errmsg(-1));
		goto cleanup;
	}
	/* Private: prepare_sections() edits section headers, never the file. */
	dw->elf = buf ? elf_memory(buf, len) : elf_begin(dw->fd, ELF_C_READ_MMAP_PRIVATE, NULL);
	if (!dw->elf || elf_kind(dw->elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		lp_seterr("%s: not an ELF file", path);
		goto cleanup;
	}
	/* No debug sections is the usual case of a binary built with -ldflags=-w. */
	if (!prepare_sections(dw->elf)) {
		err = -ENOENT;
		goto cleanup;
	}
	dw->dbg = dwarf_begin_elf(dw->elf, DWARF_C_READ, NULL);
	if (!dw->dbg) {
		err = -EINVAL;
		lp_seterr("%s: unreadable DWARF (%s); rebuild it, or trace without DWARF by "
			  "giving argument types in the script",
			  path, dwarf_errmsg(-1));
		goto cleanup;
	}
	err = load_units(dw);
	if (err == -EINVAL) {
		lp_seterr("%s: unreadable DWARF (%s); rebuild it, or trace without DWARF by "
			  "giving argument types in the script",
			  path, dwarf_errmsg(-1));
		goto cleanup;
	}
	if (err)
		goto cleanup;
	if (!dw->ncus) {
		err = -ENOENT;
		goto cleanup;
	}
	pr_debug("godwarf: %s: %zu compile units\n", path, dw->ncus);
	*out = dw;
	return 0;
cleanup:
	godwarf__free(dw);
	return err;
}

int godwarf__open(const char *path, struct gotypes *ts, struct godwarf **out)
{
	return open_common(path, -1, NULL, 0, ts, out);
}

int godwarf__open_fd(int fd, const char *name, struct gotypes *ts, struct godwarf **out)
{
	return open_common(name, fd, NULL, 0, ts, out);
}

int godwarf__open_mem(void *buf, size_t len, const char *name, struct gotypes *ts,
		      struct godwarf **out)
{
	if (!buf) {
		*out = NULL;
		lp_seterr("%s: not an ELF file", name);
		return -ENOEXEC;
	}
	return open_common(name, -1, buf, len, ts, out);
}

void godwarf__free(struct godwarf *dw)
{
	if (!dw)
		return;
	free(dw->funcs.tab);
	free(dw->generic.tab);
	free(dw->types.tab);
	free(dw->memo.tab);
	if (dw->dbg)
		dwarf_end(dw->dbg);
	if (dw->elf)
		elf_end(dw->elf);
	if (dw->fd >= 0)
		close(dw->fd);
	gotypes__free(dw->mem);
	free(dw);
}
