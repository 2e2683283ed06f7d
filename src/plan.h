/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The probe compiler: from "these values of this function, of these types,
 * at these locations" to a BPF plan (ops for the generic program) and a
 * decode tree that turns the records the plan produces back into Go values.
 *
 * Capture is in two steps, both in the kernel. First each value's bytes (its
 * "image", the value's memory layout) are stored in the record: from
 * registers piece by piece, or copied from memory. Then indirections are
 * followed from the image: string and slice contents (bounded copies into
 * the record's variable area), pointees, interface dynamic types and data,
 * map and channel lengths, function names.
 */
#ifndef LUPROBE_PLAN_H
#define LUPROBE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "goabi.h"
#include "goruntime.h"
#include "gotype.h"
#include "luprobe.h"

/* What the decoder does with a node. */
enum dnode_kind {
	DN_SCALAR, /* bool, ints, floats, complex, uintptr, unsafe.Pointer: from the image */
	DN_STRING, /* image {ptr,len}; bytes via lp_var at var */
	DN_SLICE,  /* image {ptr,len,cap}; flat elements via lp_var at var, else children */
	DN_ARRAY,  /* children at image offsets */
	DN_PTR,	   /* image {ptr}; pointee in child[0] when followed */
	DN_STRUCT, /* children = fields */
	DN_IFACE,  /* image {tab|type, data}; aux: dynamic type (8), data words (16), lp_var (4) */
	DN_MAP,	   /* image {ptr}; aux: count (8) */
	DN_CHAN,   /* image {ptr}; aux: qcount (8), dataqsiz (8) */
	DN_FUNC,   /* image {ptr}; aux: entry pc of the function (8) */
};

enum dnode_avail {
	DA_OK = 0,
	DA_FLOATREG, /* passed in an XMM register, which a uprobe cannot read */
	/*
	 * not captured: beyond the capture bounds, or left out of a default
	 * capture that did not fit the plan (plan__fit); shown as "..."
	 */
	DA_NOTFOLLOWED,
	DA_UNKNOWN, /* where the value lives is not known (raw words of a dead register) */
};

#define DNODE_GUARDS 2 /* type assertions in one field path */

struct dnode {
	enum dnode_kind kind;
	const struct gotype *type;
	uint16_t img;	  /* offset of the image in record data */
	uint8_t slot;	  /* fault bit covering the image */
	uint8_t aux_slot; /* fault bit covering aux */
	uint8_t var_slot; /* fault bit covering the var bytes */
	uint8_t avail;	  /* enum dnode_avail */
	bool flat;	  /* DN_SLICE: elements decoded from the var bytes */
	bool shallow;	  /* the image only: plan__fit left out what it points to */
	uint16_t var;	  /* DN_STRING, flat DN_SLICE, DN_IFACE: offset of a struct lp_var */
	uint16_t aux;	  /* DN_IFACE, DN_MAP, DN_CHAN, DN_FUNC */
	uint32_t nchild;
	struct dnode *child;
	/*
	 * A field path through type assertions (x.(*T)): where each asserted
	 * interface's dynamic type is in the record; the value is readable only
	 * when each is that *T.
	 */
	uint8_t nguard;
	uint16_t guard[DNODE_GUARDS];
	const struct gotype *guard_type[DNODE_GUARDS];
	/*
	 * A field path through a map lookup (m["key"]): where the lookup's enum
	 * lp_map_status is in the record. The value is nil when the key is
	 * absent, unreadable unless it was found.
	 */
	bool lookup;
	uint16_t lookup_at;
	int lookup_skip; /* while building: the SKIPZ over the value's ops when absent */
};

/* A value the script asked for: an argument, a result, or a field path of one. */
struct plan_value {
	const char *name; /* "iterations", "r.URL.Path", "~r0" */
	bool is_result;
	bool hidden; /* captured for a predicate or an aggregation, not shown */
	struct dnode root;
};

/* Where a parameter lives at the probe site, as the ABI model says. */
struct plan_param {
	const char *name;
	const struct gotype *type;
	bool is_result;
	const struct goassign *loc;
	/*
	 * A default capture (a whole parameter or result): captured as far as
	 * the plan has room, by plan__fit(), rather than all or an error.
	 */
	bool best_effort;
};

struct plan_opts {
	uint32_t strcap;	    /* bytes copied per string (default 64) */
	uint32_t elems;		    /* slice/array elements captured (default 8) */
	uint32_t depth;		    /* pointer levels followed (default 1) */
	const struct goruntime *rt; /* offsets for maps, chans, itabs */
	/* the type of a type assertion in a field path ("*net.TCPConn"), NULL if unknown */
	const struct gotype *(*parse_type)(void *ctx, const char *text);
	void *parse_ctx;
	/* plan__fit(), when it cannot capture everything: room left for what follows */
	uint32_t reserve_ops, reserve_bytes;
};

struct plan_builder;

/* Start a plan for one function; gsrc/offsets fill the lp_plan header. */
struct plan_builder *plan__new(const struct plan_opts *opts);
void plan__free(struct plan_builder *pb);

/* The BPF plan under construction (header fields may be set directly). */
struct lp_plan *plan__bpf(struct plan_builder *pb);

/*
 * Capture a parameter (is_result selects the return site), or one field path
 * inside it ("URL.Path" of parameter r; NULL for the whole value). Returns 0,
 * or -EINVAL / -E2BIG with lp_seterr() naming the problem (unknown field,
 * plan too big). A best-effort parameter (without a path) is only recorded
 * here; plan__fit() captures it.
 */
int plan__add(struct plan_builder *pb, const struct plan_param *param, const char *path,
	      const char *display_name);

/*
 * Capture the best-effort values added since the last call: all of them as
 * deep as the options say if the plan has room, else what fits, leaving
 * room for a predicate and aggregations, in this order: every value's own
 * bytes, then string bytes, interfaces' dynamic types and data, pointees,
 * and slices, maps, channels, funcs and big pointees, one level of
 * indirection after another. What is left out reads as not captured (a
 * pointer as its address). Returns 0, or -ENOMEM.
 */
int plan__fit(struct plan_builder *pb);

/* Did plan__fit() leave something out? */
bool plan__fitted(const struct plan_builder *pb);

/* Room plan__fit() leaves for what comes after it, when it cannot capture everything. */
#define PLAN_FIT_RESERVE_OPS   16
#define PLAN_FIT_RESERVE_BYTES 512

/* Where a raw argument word is. */
enum raw_loc {
	RAW_REG,     /* integer register `reg` */
	RAW_STACK,   /* memory at entry SP + off */
	RAW_FLOAT,   /* an XMM register: unreadable */
	RAW_UNKNOWN, /* not known: unreadable */
};

/* A raw argument word of `size` bytes (1, 2, 4, 8), shown as a hexadecimal uintptr. */
int plan__add_raw(struct plan_builder *pb, const char *name, enum raw_loc loc, int reg, int32_t off,
		  unsigned size);

/* Finish: returns the values in capture order; the builder keeps ownership. */
const struct plan_value *plan__values(const struct plan_builder *pb, size_t *n);

/* Bytes of record data used by the entry part (fixed + variable area caps). */
uint32_t plan__entry_bytes(const struct plan_builder *pb);

/* Op emission and constants, for the predicate compiler. */
int plan__emit(struct plan_builder *pb, bool at_return, const struct lp_op *op);
/* Ops emitted so far on one side (to patch a skip). */
unsigned plan__nops(const struct plan_builder *pb, bool at_return);
/*
 * Store len bytes in the plan's constants, 8-byte aligned and zero-padded to
 * a multiple of 8; returns the offset, or -E2BIG when the area is full.
 */
int plan__const(struct plan_builder *pb, const void *bytes, size_t len);
/*
 * Building blocks for captures composed elsewhere (src/bounded.c): record
 * data in the fixed area (its offset, or -E2BIG when the plan is full), a
 * fault slot, a value shown under a name (its root node is the caller's to
 * fill), variable-area room a side's copies may take, and the options.
 */
int plan__alloc(struct plan_builder *pb, uint32_t size, uint32_t align);
unsigned plan__slot(struct plan_builder *pb);
struct plan_value *plan__new_value(struct plan_builder *pb, const char *name, bool is_result);
void plan__var_cap(struct plan_builder *pb, bool at_return, uint32_t bytes);
const struct plan_opts *plan__opts(const struct plan_builder *pb);
/* Find a captured value by name (NULL if none). */
const struct plan_value *plan__find(const struct plan_builder *pb, const char *name);
/*
 * The node of a name: a captured value ("r.URL.Path"), or a field path into
 * one through captured structs and followed pointers ("r.URL.Path" within a
 * captured r). NULL if not captured.
 */
const struct dnode *plan__resolve(const struct plan_builder *pb, const char *path, bool *is_result);
/*
 * The description of a lookup of key (Go syntax: "X-Request-Id" quoted, or
 * an integer) in a map of type map (GK_MAP), laid out as an hmap (swiss
 * false) or a swiss table, for LP_OP_MAPGET (src/plan_map.c). Returns the
 * bytes of buf to store in the plan's constants, or -EINVAL with lp_seterr()
 * saying what is wrong (a key type other than a string or an integer, a
 * literal of the wrong kind, a key too long). buf gets a struct lp_mapdesc
 * and, for a string key, its bytes past the first 8.
 */
#define PLAN_MAPDESC_MAX (offsetof(struct lp_mapdesc, key) + LP_MAPKEY_MAX)
int plan__map_desc(const struct gotype *map, bool swiss, const char *key,
		   uint8_t buf[PLAN_MAPDESC_MAX]);

/* Mark the value of this name captured last hidden (captured, not shown). */
void plan__hide(struct plan_builder *pb, const char *name);
/* Give the plan's flags (entry filter) to the BPF plan. */
void plan__set_flags(struct plan_builder *pb, uint16_t flags);

/*
 * For a plan that sends no events (in-kernel aggregations only): drop the
 * ops whose results neither the aggregations nor the predicates read, so a
 * count does not copy arguments nobody looks at.
 */
void plan__prune(struct lp_plan *p);

#endif
