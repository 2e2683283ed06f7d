/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Runtime type descriptors of a Go binary (abi.Type and what follows it),
 * read from the file for every Go release from 1.13 on. Stripped binaries
 * keep them: they give struct fields (name, type, offset), the element,
 * key and length of composite types, func types (parameters and results),
 * interface method sets, and for named types the package path and the
 * method table: each method's func type (Mtyp) and code addresses (ifn, the
 * one interfaces call; tfn, the one reflect and direct calls use). itabs
 * add the methods called through interfaces.
 *
 * Everything reachable from the binary's type index (typelinks, itabs) is
 * read once, at open, through bounded reads: a damaged binary yields
 * counted errors and missing links, never a loop or an out-of-bounds read.
 */
#ifndef LUPROBE_RTYPE_H
#define LUPROBE_RTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gobin;
struct rtypes;
struct rtype;

struct rtype_field {
	const char *name;	  /* "URL"; an embedded field is named after its type */
	const struct rtype *type; /* NULL if its descriptor is unreadable */
	uint64_t offset;
	bool embedded;
};

/* An entry of a named type's method table. */
struct rtype_method {
	const char *name;	  /* "ServeHTTP" */
	const struct rtype *func; /* Mtyp: the func type without receiver; NULL if dropped */
	uint64_t ifn, tfn;	  /* code addresses; 0 where the linker dropped the code */
};

/* A method of an interface type. */
struct rtype_imethod {
	const char *name;
	const struct rtype *func;
};

struct rtype {
	uint64_t addr;	     /* of the descriptor, as linked */
	const char *name;    /* Go spelling with package paths: "*net/http.Request", "[]string" */
	const char *str;     /* the runtime's string: "*http.Request" */
	const char *pkgpath; /* of a named type from a package ("net/http"), else NULL */
	uint8_t kind;	     /* reflect.Kind (RK_* in gotype.h) */
	bool named;
	uint64_t size;
	uint8_t align, field_align;
	const struct rtype *elem;   /* PTR SLICE ARRAY CHAN MAP(value) */
	const struct rtype *key;    /* MAP */
	const struct rtype *ptr_to; /* *T, when the binary has its descriptor */
	uint64_t len;		    /* ARRAY */
	int chan_dir;		    /* CHAN: 1 receive, 2 send, 3 both */
	size_t nfields;		    /* STRUCT */
	const struct rtype_field *fields;
	size_t nin, nout; /* FUNC: no receiver in in[]; if variadic, the last in[] is a slice */
	const struct rtype *const *in, *const *out;
	bool variadic;
	size_t nimethods; /* INTERFACE */
	const struct rtype_imethod *imethods;
	size_t nmethods; /* method table (named types and pointers to them) */
	const struct rtype_method *methods;
};

struct rtypes_stats {
	size_t types;	/* descriptors read */
	size_t roots;	/* of them, listed by typelinks or itabs */
	size_t itabs;	/* itabs read */
	size_t methods; /* code addresses indexed for rtypes__func_params */
	size_t errors;	/* unreadable or inconsistent descriptors, pointers, names */
};

/*
 * Read every runtime type descriptor of gb (which must outlive the result).
 * Returns 0; -ENOENT (with lp_seterr()) when the binary's module data or
 * type index is not found; -ENOMEM. Damaged descriptors are not a failure:
 * they are counted in the stats' errors and left out.
 */
int rtypes__open(struct gobin *gb, struct rtypes **out);
void rtypes__free(struct rtypes *rt); /* accepts NULL */

const struct rtypes_stats *rtypes__stats(const struct rtypes *rt);

/* Every type read, in no particular order: i < rtypes__stats(rt)->types. */
const struct rtype *rtypes__type(const struct rtypes *rt, size_t i);

/*
 * A type by its name with package paths ("net/http.Request",
 * "*main.T", "map[string]int", "main.Pair[int,string]") or, failing that, by
 * the runtime's string ("http.Request"); NULL if the binary has no such type.
 */
const struct rtype *rtypes__lookup(const struct rtypes *rt, const char *name);

/* The type whose descriptor is at addr, or NULL. */
const struct rtype *rtypes__at(const struct rtypes *rt, uint64_t addr);

/*
 * The field of struct type t named name, including fields promoted from
 * embedded struct values (as Go resolves them, shallowest first); *offset
 * gets its offset from the start of t. NULL if absent or ambiguous.
 */
const struct rtype_field *rtype__field(const struct rtype *t, const char *name, uint64_t *offset);

/* What the method tables and itabs say about the code at one address. */
struct rtype_sig {
	const char *method;	  /* "Get" */
	const struct rtype *recv; /* the receiver's type, or its element when recv_ptr */
	bool recv_ptr;		  /* the code receives *recv (recv's own descriptor is not *T) */
	const struct rtype *func; /* the func type: parameters and results after the receiver */
};

/*
 * The signature of the method whose code starts at text (a link-time
 * address, as gobin_func.entry): 0, or -ENOENT when no method table or
 * itab names that address with a func type.
 */
int rtypes__func_params(const struct rtypes *rt, uint64_t text, struct rtype_sig *out);

/*
 * t in the type model the DWARF reader, the ABI model and the probe
 * compiler share, allocated in ts: kinds, sizes, alignment, element, key,
 * length and struct fields, recursively (a recursive type stays one
 * node). Predeclared types are ts's own. Conversions are memoized for one ts
 * at a time: passing another forgets those of the previous. NULL if t is
 * NULL, its kind is invalid, or memory is short.
 */
struct gotypes;
struct gotype;
const struct gotype *rtypes__gotype(struct rtypes *rt, const struct rtype *t, struct gotypes *ts);

#endif
