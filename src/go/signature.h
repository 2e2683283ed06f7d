/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where a function's parameters and results come from when the script does
 * not declare them, best first: DWARF (the binary's, or a debug file's),
 * the Go standard library's signature table (stdsig.h), the binary's
 * runtime type descriptors, and last the raw layout of the argument words.
 * The probe compiler asks the sources in that order; this file holds the
 * sources that are not DWARF.
 */
#ifndef LUPROBE_SIGNATURE_H
#define LUPROBE_SIGNATURE_H

#include <stddef.h>
#include "gobin.h"
#include "godwarf.h"
#include "gotype.h"

enum sig_origin {
	SIG_NONE,     /* nothing: raw words, or an error where types are needed */
	SIG_DECLARED, /* the script's args/ret declaration */
	SIG_DWARF,    /* the binary's DWARF */
	SIG_DEBUGFILE,
	SIG_STD,   /* the standard library's signature table */
	SIG_RTYPE, /* the binary's runtime type descriptors */
	SIG_LAYOUT,
};

/* "DWARF", "std table", ... as -l and messages say it */
const char *sig_origin__name(enum sig_origin src);

struct sigsrc;

/*
 * The sources of one binary: types are built in ts; named types are taken
 * from lookup (the binary's own, may be NULL) before the std table's.
 */
struct sigsrc *sigsrc__new(struct gotypes *ts, int go_minor, gotype_lookup_fn lookup, void *ctx);
void sigsrc__free(struct sigsrc *ss); /* accepts NULL */

/*
 * A named type as the binary describes it (the lookup given to
 * sigsrc__new, its runtime type descriptors), else as the std table does
 * for the binary's release; for gotypes__parse (ctx: the sigsrc). NULL if
 * neither knows it.
 */
const struct gotype *sigsrc__lookup(void *ctx, const char *name);

/*
 * The signature of f from the std table for the binary's release: params
 * then results into out (at most max), names as DWARF gives them (unnamed
 * results "~r0"..., blank or unnamed parameters "~p0"...). Returns the
 * number of entries, -ENOENT if the table has no such function (or a
 * generic one, whose types are not known), -EINVAL if a type cannot be laid
 * out for this release (a layout the table only guesses), -E2BIG.
 */
int sigsrc__std(struct sigsrc *ss, const struct gobin_func *f, struct goparam *out, size_t max);

/*
 * The signature of f from the binary's runtime type descriptors, when f is
 * a method a method table or an itab names (rtype.h): the receiver and the
 * parameters named a0, a1, ... (only their types are known), the results
 * ~r0, ~r1, ... Returns the number of entries, -ENOENT if no table names
 * f, -EINVAL if a type cannot be converted, -E2BIG.
 */
struct rtypes;
int sigsrc__rtype(struct sigsrc *ss, struct rtypes *rt, const struct gobin_func *f,
		  struct goparam *out, size_t max);

#endif

/*
 * The argument layout the binary records for tracebacks (ArgInfo, Go 1.17+)
 * written as "({a0, a1}, a2, a3:4, ...)": words a0..., an aggregate (string,
 * slice, interface, struct, array, complex) in braces, a size other than 8
 * after a colon, "..." where the record stops. Returns the length, 0 if the
 * binary records none (before Go 1.17, or none for f), -errno.
 */
int signature__layout(const struct gobin *gb, const struct gobin_func *f, char *buf, size_t len);

/*
 * Do the declared parameters params[0, n) fit the recorded layout (the same
 * aggregates and word sizes, as the compiler would record them; the first
 * parameters may be declared alone)? 0 if they do or nothing is recorded; -EINVAL with a message naming the function,
 * the declaration and the layout if not.
 */
int signature__check(const struct gobin *gb, const struct gobin_func *f,
		     const struct goparam *params, size_t n);
