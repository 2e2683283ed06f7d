/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Go standard library's exported functions and methods, by the symbol a
 * Go binary gives them: parameter and result names and types, for every
 * release from Go 1.0 to the one the table was generated from, whatever the
 * binary carries (stripped binaries included). Go 1 compatibility keeps these
 * signatures; the few that changed have one entry per span of releases.
 *
 * The table is src/go/stdsig.tab, written by scripts/stdsig (make stdsig) from a
 * Go tree's api/go1*.txt, api/except.txt and sources (docs/design.md says how
 * to check it). The build compresses it into the binary; it is inflated and
 * indexed on first use (about 390 KB, a millisecond), never at startup.
 *
 * The file: '#' lines are comments; "go\tN" (the generating release 1.N);
 * "funcs\tN" and N lines sorted by symbol (then release):
 *
 *   symbol \t since[-until] \t flags \t params \t results [\t type parameters]
 *
 *   strconv.ParseFloat	0	-	s string|bitSize int	_ float64|_ error
 *   os.Chmod	0-16	-	name string|mode os.FileMode	_ error
 *
 * since and until are minor releases (0 is Go 1.0); until is the first
 * release without the entry. flags: '-' or any of 'w' (a method promoted
 * from an embedded field: the symbol is a compiler-generated wrapper), 'v'
 * (variadic: the last parameter, written []T, is ...T), 'g' (generic: the
 * symbol has "[...]" where a binary has the instantiation, types name the
 * type parameters, and the last field lists them with their constraints).
 * params and results: '-' for none, else "name type" items joined by '|';
 * a method's receiver is the first parameter; '_' is a blank or unnamed one.
 * Types are written as gotypes__parse reads them: named types qualified by
 * import path ("*net/http.Request", "io/fs.FileMode"), aliases resolved,
 * uint8 and int32 for byte and rune, func types without parameter names.
 *
 * Then "types\tN" and N lines sorted by name: every named type the
 * signatures mention, and those the mentioned ones mention in turn:
 *
 *   name \t class \t underlying type, or '-'
 *
 *   time.Duration	fixed	int64
 *   time.Time	guess1.26	struct{ wall uint64; ext int64; loc *time.Location }
 *
 * class: "fixed" (the same in every release), "since1.N" (a struct with
 * exported fields only, some added in 1.N: this layout from 1.N on),
 * "guess1.N" (a struct holding unexported fields, or fields whose types
 * changed: the layout of 1.N, the generating release, and only a best guess
 * for others), "iface" (a non-empty interface: two words, itab and data),
 * "opaque" (a struct every signature holds behind a pointer, slice, map,
 * channel or func: no layout needed, none given).
 */
#ifndef LUPROBE_STDSIG_H
#define LUPROBE_STDSIG_H

#include <stdbool.h>
#include <stddef.h>
#include "gotype.h"

#define STDSIG_MAXPARAMS 32
#define STDSIG_BUFLEN	 4096

struct stdsig_param {
	const char *name; /* NULL for a blank or unnamed one */
	const char *type; /* as gotypes__parse reads it, named types through stdsig_types */
};

struct stdsig {
	const char *symbol;  /* as in the table (generic: with "[...]") */
	int since;	     /* the first release (Go 1.since) that has it */
	int until;	     /* the first release without it; 0 if the table's newest has it */
	bool wrapper;	     /* a promoted method: the symbol is a compiler-generated wrapper */
	bool ptr_wrapper;    /* (*T).M asked for, T.M found: the wrapper taking a *T receiver */
	bool variadic;	     /* the last parameter is ...T, written []T */
	bool generic;	     /* types name type parameters: not placeable as they stand */
	const char *tparams; /* generic: "S ~[]E, E cmp.Ordered"; else NULL */
	size_t nparams;	     /* a method's receiver is params[0] */
	size_t nresults;
	struct stdsig_param params[STDSIG_MAXPARAMS];
	struct stdsig_param results[STDSIG_MAXPARAMS];
	char buf[STDSIG_BUFLEN]; /* the strings above point into it */
};

/* The release the table was generated from (26 for Go 1.26); -errno if it cannot be loaded. */
int stdsig__go_minor(void);

/*
 * The signature of symbol, a function's name in a Go binary's pclntab
 * ("strconv.ParseFloat", "net/http.(*Client).Do", "time.Time.Format",
 * "slices.Sort[go.shape.int]"), in the Go release 1.go_minor. A (*T).M that
 * the table does not have is found as the wrapper of T.M (ptr_wrapper, the
 * receiver's type a pointer). Returns 0, -ENOENT if the symbol is not in
 * the std API of that release (releases after the table's newest are taken
 * to have what it has), or -errno if the table cannot be loaded (message
 * with lp_seterr).
 */
int stdsig__lookup(const char *symbol, int go_minor, struct stdsig *out);

/* Number of entries (every release); 0 if the table cannot be loaded. */
size_t stdsig__count(void);
/* Entry i, 0 <= i < stdsig__count(), in symbol order; 0 or -ENOENT. */
int stdsig__entry(size_t i, struct stdsig *out);
/* Does entry out exist in release 1.go_minor? */
bool stdsig__in_release(const struct stdsig *s, int go_minor);
/* Number of entries that exist in release 1.go_minor. */
size_t stdsig__count_release(int go_minor);

enum stdsig_class {
	STDSIG_FIXED,  /* spec: the underlying type, the same in every release */
	STDSIG_SINCE,  /* spec: the layout from release layout_minor on */
	STDSIG_GUESS,  /* spec: the layout in release layout_minor; a best guess in others */
	STDSIG_IFACE,  /* a non-empty interface; no spec */
	STDSIG_OPAQUE, /* a struct only ever behind an indirection; no spec */
};

struct stdsig_type {
	const char *name; /* "time.Time", "iter.Seq[string]" */
	enum stdsig_class cls;
	int layout_minor; /* STDSIG_SINCE, STDSIG_GUESS */
	const char *spec; /* FIXED, SINCE, GUESS: the underlying type; else NULL */
	char buf[STDSIG_BUFLEN];
};

/* The named type name; 0, -ENOENT, or -errno if the table cannot be loaded. */
int stdsig__type(const char *name, struct stdsig_type *out);
size_t stdsig__ntypes(void);
int stdsig__type_at(size_t i, struct stdsig_type *out);

/*
 * The table's named types as Go types of a registry, for gotypes__parse:
 *
 *   struct stdsig_types *st = stdsig_types__new(ts);
 *   gotypes__parse(ts, "*net/http.Request", stdsig_types__lookup, st, &t, err, len);
 *
 * Each name is built once. Layouts are the table's (see the classes): a
 * caller that has the binary's own (DWARF, runtime type descriptors) should
 * prefer it. An opaque struct is a GK_INVALID type of size 0, so that a
 * pointer to it can be written but goabi__assign refuses it by value; a
 * non-empty interface is GK_IFACE.
 */
struct stdsig_types;
struct stdsig_types *stdsig_types__new(struct gotypes *ts);
/*
 * For a binary of release 1.go_minor: a layout the table gives for another
 * release (a "guess" of a different one, a "since" of a later one) is not
 * used (the type is opaque); a type that first (may be NULL) knows, the
 * binary's own, is taken from it instead of the table.
 */
void stdsig_types__for(struct stdsig_types *st, int go_minor, gotype_lookup_fn first,
		       void *first_ctx);
void stdsig_types__free(struct stdsig_types *st); /* accepts NULL */
const struct gotype *stdsig_types__lookup(void *st, const char *name);

#endif
