/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Every direct call of a function, when those are provably all its calls.
 *
 * A function without a stack check has no instruction near its entry that
 * the kernel emulates, so a probe there is single-stepped (~10 us a hit
 * here). The CALL instructions that reach it are emulated (~0.7 us). They
 * can replace the entry probe only if nothing else can reach the function:
 * it is a plain package-level function (methods are reached through method
 * tables that hold 32-bit text offsets, which cannot be searched for), and
 * its address appears nowhere but in the rel32 of those CALLs: not in any
 * allocated data section (function values, itabs, init tasks), not in a PIE
 * relocation, not in any other instruction (LEA of a closure, JMP, Jcc).
 *
 * The search is conservative: a byte pattern that might encode a reference
 * is decoded from the start of the function that contains it, and anything
 * that is not a CALL of the target, or cannot be decoded, makes the target
 * ineligible.
 */
#ifndef LUPROBE_CALLSITES_H
#define LUPROBE_CALLSITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gobin.h"

struct callsites {
	uint64_t target; /* function entry (link-time address) */
	bool eligible;	 /* every reference is a direct CALL: the sites are all its calls */
	const char *why; /* when not eligible: the first reason found (static string) */
	size_t nsites;	 /* CALL instructions (addresses of the CALL, link-time) */
	uint64_t *sites; /* malloc'd */
};

/* Is name a plain package-level function ("pkg/path.F"), not a method or closure? */
bool callsites__plain_func(const char *name);

/*
 * Find the call sites of each of the n functions (out[i].target must be set
 * by the caller). Returns 0 or -ENOMEM; a target is simply ineligible when
 * its callers cannot all be known.
 */
int callsites__find(const struct gobin *gb, struct callsites *out, size_t n);

void callsites__free(struct callsites *cs, size_t n);

#endif
