/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Go type model shared by the DWARF reader, the type-spec parser, the ABI
 * model, the probe compiler and the event decoder.
 *
 * Types live in a registry (struct gotypes) and are freed with it. A type is
 * immutable once built, except that a struct or named type may be completed
 * after creation so that recursive types (type node struct { next *node })
 * can be represented.
 */
#ifndef LUPROBE_GOTYPE_H
#define LUPROBE_GOTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gokind {
	GK_INVALID = 0,
	GK_BOOL,
	GK_INT,	 /* int, int8..int64 (size says which) */
	GK_UINT, /* uint, uint8..uint64 */
	GK_UINTPTR,
	GK_FLOAT,     /* float32, float64 */
	GK_COMPLEX,   /* complex64, complex128 */
	GK_STRING,    /* {ptr, len} */
	GK_SLICE,     /* {ptr, len, cap}, elem */
	GK_ARRAY,     /* [len]elem */
	GK_PTR,	      /* *elem */
	GK_UNSAFEPTR, /* unsafe.Pointer */
	GK_STRUCT,    /* fields */
	GK_IFACE,     /* non-empty interface {itab, data}; error is one */
	GK_EFACE,     /* empty interface (any) {type, data} */
	GK_MAP,	      /* pointer to the runtime map header; key, elem */
	GK_CHAN,      /* pointer to runtime.hchan; elem */
	GK_FUNC,      /* pointer to a funcval */
};

/*
 * reflect.Kind: what a runtime type descriptor's kind byte (low 5 bits) and
 * DWARF's DW_AT_go_kind hold.
 */
enum {
	RK_BOOL = 1,
	RK_INT,
	RK_INT8,
	RK_INT16,
	RK_INT32,
	RK_INT64,
	RK_UINT,
	RK_UINT8,
	RK_UINT16,
	RK_UINT32,
	RK_UINT64,
	RK_UINTPTR,
	RK_FLOAT32,
	RK_FLOAT64,
	RK_COMPLEX64,
	RK_COMPLEX128,
	RK_ARRAY,
	RK_CHAN,
	RK_FUNC,
	RK_INTERFACE,
	RK_MAP,
	RK_PTR,
	RK_SLICE,
	RK_STRING,
	RK_STRUCT,
	RK_UNSAFEPTR,
};

struct gotype;

struct gofield {
	const char *name;
	uint64_t offset;
	const struct gotype *type;
	bool embedded;
};

struct gotype {
	enum gokind kind;
	const char *name; /* Go spelling: "int64", "[]uint8", "*main.T", "main.T", "error" */
	uint64_t size;	  /* bytes, as unsafe.Sizeof on amd64 */
	uint32_t align;	  /* bytes, as unsafe.Alignof on amd64 */
	const struct gotype *elem; /* PTR SLICE ARRAY CHAN MAP(value) */
	const struct gotype *key;  /* MAP */
	uint64_t len;		   /* ARRAY */
	size_t nfields;		   /* STRUCT */
	const struct gofield *fields;
};

struct gotypes;

struct gotypes *gotypes__new(void);
void gotypes__free(struct gotypes *ts); /* accepts NULL */

/* Allocate memory that lives as long as the registry (zeroed). */
void *gotypes__alloc(struct gotypes *ts, size_t size);
/* Copy a string into the registry. */
const char *gotypes__strdup(struct gotypes *ts, const char *s);

/*
 * A new type, zeroed except kind, name (copied into the registry; may be
 * NULL) and size and align; the caller fills elem/key/len/fields before the
 * type is used.
 */
struct gotype *gotypes__new_type(struct gotypes *ts, enum gokind kind, const char *name,
				 uint64_t size, uint32_t align);

/* The predeclared type with this name ("int", "uint8", "byte", "string", "error", "any", ...), or
 * NULL. */
const struct gotype *gotypes__builtin(struct gotypes *ts, const char *name);

/* Derived types, built on demand and memoized per element type. */
const struct gotype *gotypes__ptr_to(struct gotypes *ts, const struct gotype *elem);
const struct gotype *gotypes__slice_of(struct gotypes *ts, const struct gotype *elem);
const struct gotype *gotypes__array_of(struct gotypes *ts, const struct gotype *elem, uint64_t len);

/*
 * Parse a type written in Go syntax, as a script declares it:
 *   bool int int8..int64 uint uint8..uint64 uintptr byte rune float32 float64
 *   complex64 complex128 string error any interface{} unsafe.Pointer
 *   *T []T [N]T map[K]V chan T <-chan T chan<- T func(...)... struct{ A int; B string }
 * Named types are looked up through lookup (may be NULL), which returns a
 * type or NULL for an unknown name. Returns 0, or -EINVAL with a message in
 * err that names the offending column: "unknown type 'strng' at column 3".
 */
typedef const struct gotype *(*gotype_lookup_fn)(void *ctx, const char *name);
int gotypes__parse(struct gotypes *ts, const char *spec, gotype_lookup_fn lookup, void *ctx,
		   const struct gotype **out, char *err, size_t errlen);

/*
 * Field of a struct by name, NULL if absent. Fields promoted from embedded
 * structs are found too (breadth first, as Go resolves them); *offset gets
 * the field's offset from the start of t. A field promoted through an
 * embedded pointer has no such offset: NULL (see gotype__field_path). An
 * ambiguous name (two fields at the shallowest depth) is absent, as in Go.
 */
const struct gofield *gotype__field(const struct gotype *t, const char *name, uint64_t *offset);

/*
 * Like gotype__field, but also through embedded pointers (type T struct {
 * *U }), where the field has no fixed offset from t: path[] gets the chain
 * of fields from t to it, embedded fields first, the field itself last; a
 * reader adds each offset and dereferences after each pointer-typed
 * embedded field. Returns the number of entries, -ENOENT if there is no
 * such field (or it is ambiguous), -E2BIG if the chain is longer than max.
 */
int gotype__field_path(const struct gotype *t, const char *name, const struct gofield **path,
		       size_t max);

/* Follow typedef-free identity: true if the type is the predeclared "error". */
bool gotype__is_error(const struct gotype *t);

#endif
