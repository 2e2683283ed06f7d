/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Probe sites of a Go function, found by decoding its instructions with
 * capstone: where the entry probe fires exactly once per call, every RET,
 * and what the stack-growth path spills (which registers hold arguments).
 * Every address returned is an instruction boundary reached by decoding from
 * the function's entry.
 */
#ifndef LUPROBE_DISASM_H
#define LUPROBE_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gobin.h"

#define DISASM_MAX_SPILLS 48

/* A register saved to its spill slot before runtime.morestack. */
struct disasm_spill {
	uint8_t cls;  /* enum goreg_class: 0 integer, 1 float */
	uint8_t reg;  /* goabi register index (RAX=0 ... R11=8; X0=0 ...), 0xff if not an ABI
			 register */
	uint8_t size; /* bytes stored */
	int32_t off;  /* offset from SP at entry */
};

struct disasm_func {
	uint64_t entry_site; /* address of the entry probe */
	unsigned site_kind;  /* LP_SITE_JCC, or LP_SITE_ENTRY when there is no stack check */
	unsigned cc;	     /* LP_SITE_JCC: x86 condition code of the branch */
	bool cc_neg;	     /* the morestack path is the fall-through, not the branch */
	bool emulated;	     /* the kernel emulates the entry instruction (no single-step) */
	size_t nrets;
	uint64_t *rets; /* addresses of RET instructions (malloc'd) */
	/*
	 * Jumps out of the function (tail calls): the calls that leave through
	 * them return to the caller without passing a RET of this function.
	 */
	size_t ntails;
	uint64_t tail_target; /* where the first of them goes */
	size_t ninsns;	/* instructions decoded */
	size_t nspills;
	struct disasm_spill spills[DISASM_MAX_SPILLS];
	bool closure_ctx; /* the morestack call is runtime.morestack (closure context in DX) */
	int g_reg;	  /* LP_REG_* holding g at the entry site (the stack check's base), or -1 */
};

/*
 * Decode f and fill out. Returns 0, or -EINVAL with lp_seterr() when the
 * code cannot be decoded completely (no probe is then placed on f).
 */
int disasm__func(const struct gobin *gb, const struct gobin_func *f, struct disasm_func *out);
void disasm__free(struct disasm_func *d); /* frees rets; accepts NULL */
/* Only the entry site (the prologue is decoded, not the whole function). */
int disasm__entry(const struct gobin *gb, const struct gobin_func *f, struct disasm_func *out);

/*
 * The direct CALLs (E8 rel32) in f of the function named callee, decoding f
 * from its entry: their addresses go to sites[0..max). Returns how many
 * there are (possibly more than max), or -EINVAL with lp_seterr() when f
 * cannot be decoded completely.
 */
int disasm__calls_to(const struct gobin *gb, const struct gobin_func *f, const char *callee,
		     uint64_t *sites, size_t max);

/* Does the kernel's uprobe code emulate this instruction rather than single-step it? */
bool disasm__is_emulated(const uint8_t *code, size_t len);

#endif
