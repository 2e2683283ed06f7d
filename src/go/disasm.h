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

struct disasm_check;

/*
 * Find f's probe sites: the entry site from its prologue, and the RETs and
 * tail calls that disasm__check() found in c (which must hold f, checked).
 * Returns 0, -EINVAL with lp_seterr(), or -ENOMEM.
 */
int disasm__func(const struct gobin *gb, const struct gobin_func *f, const struct disasm_check *c,
		 struct disasm_func *out);
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

/* What a linear decode of a range found (disasm.c). */
struct disasm_walk {
	uint64_t stop;	  /* where decoding stopped: the end, or what could not be decoded */
	uint64_t last;	  /* address of the last instruction that is not padding (0: none) */
	unsigned last_id; /* and its capstone id */
	unsigned prev_id; /* the id of the instruction before that one */
	bool pad_first;	  /* the first instruction is padding */
};

/*
 * Whether a function can hold probe sites: its entry is plausible and where
 * each of its instructions starts, decoding from that entry. A wrong entry
 * (a corrupted function table) would put a breakpoint inside an instruction.
 */
struct disasm_check {
	const struct gobin_func *f; /* the function checked, NULL before the first check */
	int err;		    /* 0, or -EINVAL: why[] says what is wrong with the entry */
	char why[256];
	uint64_t undecodable; /* or: the entry is fine, the code there cannot be decoded */
	bool empty; /* or: there is no code, only padding (a marker like go:textfipsend) */
	/* the last function decoded in full, kept: it is the previous one of the next */
	const struct gobin_func *walked;
	struct disasm_walk walk;
	int walk_err;
	/* what that decode found: RETs, jumps out of the function (tail calls) */
	uint64_t *rets;
	size_t nrets, rets_cap, ntails, ninsns;
	uint64_t tail_target;
	uint8_t *starts; /* bitmap over [f->entry, f->end): where instructions start */
};

/*
 * Check f, unless c holds its verdict already. Its entry must be aligned as
 * Go's linker aligns functions, agree with .symtab when there is one, and be
 * where the code of the function before it ends (after its INT3 or zero
 * padding, with an instruction that ends a function: RET, JMP, UD2, INT, or
 * the NOP after a last CALL; assembly may end with data); and f must decode
 * completely from it. Returns c->err; -ENOMEM.
 */
int disasm__check(const struct gobin *gb, const struct gobin_func *f, struct disasm_check *c);
/* Does an instruction of the function c checked (successfully) start at addr? */
bool disasm__is_start(const struct disasm_check *c, uint64_t addr);
/* Forget the verdict (keeps buffers for the next check); accepts a zeroed one. */
void disasm__check_free(struct disasm_check *c);
/* Free everything. */
void disasm__check_release(struct disasm_check *c);

/* Does the kernel's uprobe code emulate this instruction rather than single-step it? */
bool disasm__is_emulated(const uint8_t *code, size_t len);

#endif
