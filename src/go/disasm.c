// SPDX-License-Identifier: BSD-2-Clause
/*
 * A Go function on amd64 starts with a stack check:
 *
 *   Go >= 1.17:  CMPQ SP, 16(R14)           or  LEAQ -n(SP), R12; CMPQ R12, 16(R14)
 *   Go <= 1.16:  MOVQ FS:-8, CX; CMPQ SP, 16(CX)  (or LEAQ/SUBQ variants for big frames)
 *                JLS  morestack_block
 *
 * and morestack_block spills the argument registers, calls
 * runtime.morestack_noctxt (or runtime.morestack for closures), reloads them
 * and jumps back to the first instruction. A probe on the first instruction
 * therefore fires again after every stack growth (and every synchronous
 * preemption). The conditional branch fires once per pass too, but the BPF
 * program can tell from the saved flags which way it goes, the arguments are
 * still in place there, and the kernel emulates a Jcc instead of
 * single-stepping it. So the branch is the entry site; a function without a
 * stack check is probed at its first instruction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include "capstone_loader.h"
#include "disasm.h"
#include "goabi.h"
#include "log.h"
#include "luprobe.h"

#define PROLOGUE_MAX_INSNS    16
#define SPILL_BLOCK_MAX_INSNS 64
#define FUNC_MAX_BYTES	      (16u << 20)

bool disasm__is_emulated(const uint8_t *code, size_t len)
{
	size_t i = 0;

	if (!len)
		return false;
	/* optional REX.B before push r8-r15 */
	if (code[0] == 0x41 && len > 1 && code[1] >= 0x50 && code[1] <= 0x57)
		return true;
	switch (code[i]) {
	case 0xe8: /* call rel32 */
	case 0xe9: /* jmp rel32 */
	case 0xeb: /* jmp rel8 */
	case 0x90: /* nop */
		return true;
	}
	if (code[i] >= 0x70 && code[i] <= 0x7f) /* jcc rel8 */
		return true;
	if (code[i] >= 0x50 && code[i] <= 0x57) /* push r64 */
		return true;
	if (code[i] == 0x0f && len > 1 && code[i + 1] >= 0x80 && code[i + 1] <= 0x8f)
		return true; /* jcc rel32 */
	return false;
}

/* Condition code of a Jcc, or -1 for other instructions. */
static int jcc_cc(unsigned id)
{
	switch (id) {
	case X86_INS_JO:
		return LP_CC_O;
	case X86_INS_JNO:
		return LP_CC_NO;
	case X86_INS_JB:
		return LP_CC_B;
	case X86_INS_JAE:
		return LP_CC_AE;
	case X86_INS_JE:
		return LP_CC_E;
	case X86_INS_JNE:
		return LP_CC_NE;
	case X86_INS_JBE:
		return LP_CC_BE;
	case X86_INS_JA:
		return LP_CC_A;
	case X86_INS_JS:
		return LP_CC_S;
	case X86_INS_JNS:
		return LP_CC_NS;
	case X86_INS_JP:
		return LP_CC_P;
	case X86_INS_JNP:
		return LP_CC_NP;
	case X86_INS_JL:
		return LP_CC_L;
	case X86_INS_JGE:
		return LP_CC_GE;
	case X86_INS_JLE:
		return LP_CC_LE;
	case X86_INS_JG:
		return LP_CC_G;
	}
	return -1;
}

/* goabi index of an integer register, 0xff if it is not an argument register */
static uint8_t int_reg_index(x86_reg r)
{
	switch (r) {
	case X86_REG_RAX:
	case X86_REG_EAX:
	case X86_REG_AX:
	case X86_REG_AL:
		return 0;
	case X86_REG_RBX:
	case X86_REG_EBX:
	case X86_REG_BX:
	case X86_REG_BL:
		return 1;
	case X86_REG_RCX:
	case X86_REG_ECX:
	case X86_REG_CX:
	case X86_REG_CL:
		return 2;
	case X86_REG_RDI:
	case X86_REG_EDI:
	case X86_REG_DI:
	case X86_REG_DIL:
		return 3;
	case X86_REG_RSI:
	case X86_REG_ESI:
	case X86_REG_SI:
	case X86_REG_SIL:
		return 4;
	case X86_REG_R8:
	case X86_REG_R8D:
	case X86_REG_R8W:
	case X86_REG_R8B:
		return 5;
	case X86_REG_R9:
	case X86_REG_R9D:
	case X86_REG_R9W:
	case X86_REG_R9B:
		return 6;
	case X86_REG_R10:
	case X86_REG_R10D:
	case X86_REG_R10W:
	case X86_REG_R10B:
		return 7;
	case X86_REG_R11:
	case X86_REG_R11D:
	case X86_REG_R11W:
	case X86_REG_R11B:
		return 8;
	default:
		return 0xff;
	}
}

static int xmm_index(x86_reg r)
{
	if (r >= X86_REG_XMM0 && r <= X86_REG_XMM31)
		return r - X86_REG_XMM0;
	return -1;
}

/* LP_REG_* of a 64-bit general register, or -1. */
static int lp_reg_of(x86_reg r)
{
	switch (r) {
	case X86_REG_RAX:
		return LP_REG_AX;
	case X86_REG_RBX:
		return LP_REG_BX;
	case X86_REG_RCX:
		return LP_REG_CX;
	case X86_REG_RDX:
		return LP_REG_DX;
	case X86_REG_RSI:
		return LP_REG_SI;
	case X86_REG_RDI:
		return LP_REG_DI;
	case X86_REG_R8:
		return LP_REG_R8;
	case X86_REG_R9:
		return LP_REG_R9;
	case X86_REG_R10:
		return LP_REG_R10;
	case X86_REG_R11:
		return LP_REG_R11;
	case X86_REG_R12:
		return LP_REG_R12;
	case X86_REG_R13:
		return LP_REG_R13;
	case X86_REG_R14:
		return LP_REG_R14;
	case X86_REG_R15:
		return LP_REG_R15;
	default:
		return -1;
	}
}

static bool is_morestack(const struct gobin *gb, uint64_t target)
{
	const struct gobin_func *f = gobin__func_at(gb, target);

	return f && f->entry == target && strncmp(f->name, "runtime.morestack", 17) == 0;
}

/*
 * Decode the block at addr (inside f): register stores to [rsp+off] up to a
 * CALL. Returns 1 if the call goes to runtime.morestack*, 0 otherwise.
 */
static int scan_morestack_block(csh cs, const struct gobin *gb, const struct gobin_func *f,
				uint64_t addr, struct disasm_func *out, bool record)
{
	const uint8_t *code;
	size_t size;
	uint64_t pc = addr;
	cs_insn *insn = cs_malloc(cs);
	int found = 0, n;

	if (!insn)
		return 0;
	if (addr < f->entry || addr >= f->end)
		goto out;
	size = f->end - addr;
	code = gobin__data(gb, addr, size);
	if (!code)
		goto out;
	for (n = 0; n < SPILL_BLOCK_MAX_INSNS && cs_disasm_iter(cs, &code, &size, &pc, insn); n++) {
		cs_x86 *x = &insn->detail->x86;

		if (insn->id == X86_INS_CALL) {
			if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
			    is_morestack(gb, x->operands[0].imm)) {
				found = 1;
				if (record) {
					const struct gobin_func *t =
						gobin__func_at(gb, x->operands[0].imm);
					out->closure_ctx =
						t && (strcmp(t->name, "runtime.morestack") == 0);
				}
			}
			break;
		}
		if (insn->id == X86_INS_JMP || insn->id == X86_INS_RET)
			break;
		if (!record || x->op_count != 2 || x->operands[0].type != X86_OP_MEM ||
		    x->operands[1].type != X86_OP_REG || x->operands[0].mem.base != X86_REG_RSP ||
		    x->operands[0].mem.index != X86_REG_INVALID)
			continue;
		if (out->nspills < DISASM_MAX_SPILLS) {
			struct disasm_spill *sp = &out->spills[out->nspills++];
			x86_reg r = x->operands[1].reg;
			int xi = xmm_index(r);

			sp->off = (int32_t)x->operands[0].mem.disp;
			sp->size = x->operands[0].size;
			if (xi >= 0) {
				sp->cls = GOREG_FLOAT;
				sp->reg = xi;
			} else {
				sp->cls = GOREG_INT;
				sp->reg = int_reg_index(r);
			}
		}
	}
out:
	cs_free(insn, 1);
	return found;
}

/* Is this instruction part of a stack-check prologue (it must not touch SP or call)? */
static bool ends_prologue(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	switch (insn->id) {
	case X86_INS_CALL:
	case X86_INS_RET:
	case X86_INS_JMP:
	case X86_INS_PUSH:
	case X86_INS_POP:
	case X86_INS_INT3:
		return true;
	}
	/* anything that writes RSP ends it (SUBQ $n, SP allocates the frame) */
	if (x->op_count >= 1 && x->operands[0].type == X86_OP_REG &&
	    x->operands[0].reg == X86_REG_RSP && (x->operands[0].access & CS_AC_WRITE))
		return true;
	return false;
}

static int find_entry_site(csh cs, const struct gobin *gb, const struct gobin_func *f,
			   struct disasm_func *out)
{
	size_t size = f->end - f->entry;
	const uint8_t *code = gobin__data(gb, f->entry, size);
	const uint8_t *start = code;
	uint64_t pc = f->entry;
	cs_insn *insn;
	int n, cc, g_reg = -1;

	if (!code) {
		lp_seterr("%s: code at 0x%lx is not in the file", f->name, (unsigned long)f->entry);
		return -EINVAL;
	}
	insn = cs_malloc(cs);
	if (!insn)
		return -ENOMEM;
	out->entry_site = f->entry;
	out->site_kind = LP_SITE_ENTRY;
	out->g_reg = -1;
	for (n = 0; n < PROLOGUE_MAX_INSNS; n++) {
		uint64_t at = pc;
		const uint8_t *bytes = code;

		if (!cs_disasm_iter(cs, &code, &size, &pc, insn))
			break;
		if (n == 0)
			out->emulated = disasm__is_emulated(bytes, insn->size);
		/* CMPQ SP, 16(reg): reg holds g (stackguard0 is at offset 16) */
		if (insn->id == X86_INS_CMP) {
			cs_x86 *x = &insn->detail->x86;
			int k;

			for (k = 0; k < x->op_count; k++)
				if (x->operands[k].type == X86_OP_MEM &&
				    x->operands[k].mem.disp == 16 &&
				    x->operands[k].mem.index == X86_REG_INVALID)
					g_reg = lp_reg_of(x->operands[k].mem.base);
		}
		cc = jcc_cc(insn->id);
		if (cc >= 0) {
			cs_x86 *x = &insn->detail->x86;
			uint64_t target = x->operands[0].imm;

			if (scan_morestack_block(cs, gb, f, target, out, false)) {
				out->entry_site = at;
				out->site_kind = LP_SITE_JCC;
				out->cc = cc;
				out->cc_neg = false;
				out->emulated = true;
				out->g_reg = g_reg;
				continue; /* a later branch to morestack supersedes this one */
			}
			if (scan_morestack_block(cs, gb, f, pc, out, false)) {
				out->entry_site = at;
				out->site_kind = LP_SITE_JCC;
				out->cc = cc;
				out->cc_neg = true;
				out->emulated = true;
				out->g_reg = g_reg;
				continue;
			}
			break;
		}
		if (ends_prologue(insn))
			break;
	}
	(void)start;
	/* Record the spills of the block the chosen branch leads to. */
	if (out->site_kind == LP_SITE_JCC) {
		size_t sz = f->end - out->entry_site;
		const uint8_t *c = gobin__data(gb, out->entry_site, sz);
		uint64_t p = out->entry_site;

		if (c && cs_disasm_iter(cs, &c, &sz, &p, insn)) {
			uint64_t block =
				out->cc_neg ? p : (uint64_t)insn->detail->x86.operands[0].imm;

			scan_morestack_block(cs, gb, f, block, out, true);
		}
	}
	cs_free(insn, 1);
	return 0;
}

/*
 * Target of a direct JMP or Jcc (rel8 or rel32), read from its bytes so that
 * the whole function can be decoded without capstone's (slower) details;
 * false for an indirect jump.
 */
static bool jump_target(const cs_insn *insn, uint64_t *to)
{
	const uint8_t *b = insn->bytes;
	size_t i = 0, n = insn->size;

	while (i < n && (b[i] == 0x2e || b[i] == 0x3e || b[i] == 0x66 || b[i] == 0xf2 ||
			 b[i] == 0xf3 || (b[i] >= 0x40 && b[i] <= 0x4f)))
		i++;
	if (n == i + 2 && (b[i] == 0xeb || (b[i] >= 0x70 && b[i] <= 0x7f))) {
		*to = insn->address + n + (int8_t)b[i + 1];
		return true;
	}
	if (n == i + 5 && b[i] == 0xe9) {
		*to = insn->address + n +
		      (int32_t)(b[i + 1] | b[i + 2] << 8 | b[i + 3] << 16 |
				(uint32_t)b[i + 4] << 24);
		return true;
	}
	if (n == i + 6 && b[i] == 0x0f && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f) {
		*to = insn->address + n +
		      (int32_t)(b[i + 2] | b[i + 3] << 8 | b[i + 4] << 16 |
				(uint32_t)b[i + 5] << 24);
		return true;
	}
	return false;
}

int disasm__func(const struct gobin *gb, const struct gobin_func *f, const struct disasm_check *c,
		 struct disasm_func *out)
{
	csh cs;
	int err;

	memset(out, 0, sizeof(*out));
	if (c->f != f || c->err) {
		lp_seterr("%s: not checked before it was decoded", f->name);
		return -EINVAL;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		lp_seterr("cannot initialise the disassembler");
		return -ENOMEM;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	err = find_entry_site(cs, gb, f, out);
	cs_close(&cs);
	/* the RETs and tail calls the check's linear decode found */
	if (!err && c->nrets) {
		out->rets = malloc(c->nrets * sizeof(*out->rets));
		if (!out->rets)
			err = -ENOMEM;
		else
			memcpy(out->rets, c->rets, c->nrets * sizeof(*out->rets));
		out->nrets = c->nrets;
	}
	out->ntails = c->ntails;
	out->tail_target = c->tail_target;
	out->ninsns = c->ninsns;
	if (err)
		disasm__free(out);
	return err;
}

int disasm__calls_to(const struct gobin *gb, const struct gobin_func *f, const char *callee,
		     uint64_t *sites, size_t max)
{
	size_t size = f->end - f->entry, n = 0, i;
	const uint8_t *code;
	uint64_t pc = f->entry;
	cs_insn *insn;
	csh cs;
	int err = 0;

	if (f->end <= f->entry || size > FUNC_MAX_BYTES ||
	    !(code = gobin__data(gb, f->entry, size))) {
		lp_seterr("%s: cannot read its code", f->name);
		return -EINVAL;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		lp_seterr("cannot initialise the disassembler");
		return -ENOMEM;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	while (insn && size) {
		const uint8_t *at = code;
		const struct gobin_func *t;

		if (!cs_disasm_iter(cs, &code, &size, &pc, insn)) {
			/* only INT3 padding may follow the last instruction */
			for (i = 0; i < size && code[i] == 0xcc; i++)
				;
			if (i < size) {
				lp_seterr("%s: cannot decode the instruction at 0x%lx", f->name,
					  (unsigned long)pc);
				err = -EINVAL;
			}
			break;
		}
		if (insn->id != X86_INS_CALL || insn->size != 5 || at[0] != 0xe8)
			continue;
		t = gobin__func_at(gb, insn->detail->x86.operands[0].imm);
		if (!t || t->entry != (uint64_t)insn->detail->x86.operands[0].imm ||
		    strcmp(t->name, callee) != 0)
			continue;
		if (n < max)
			sites[n] = insn->address;
		n++;
	}
	if (insn)
		cs_free(insn, 1);
	else
		err = -ENOMEM;
	cs_close(&cs);
	return err ? err : (int)n;
}

int disasm__entry(const struct gobin *gb, const struct gobin_func *f, struct disasm_func *out)
{
	csh cs;
	int err;

	memset(out, 0, sizeof(*out));
	if (f->end <= f->entry || f->end - f->entry > FUNC_MAX_BYTES)
		return -EINVAL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	err = find_entry_site(cs, gb, f, out);
	cs_close(&cs);
	return err;
}

/* ---- is this a function's entry? ---- */

static bool all_padding(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0xcc && b[i] != 0x00)
			return false;
	return true;
}

/* Padding between functions: INT3s, or zero bytes (which decode as ADD [RAX], AL). */
static bool is_pad_insn(const cs_insn *insn)
{
	return insn->id == X86_INS_INT3 || all_padding(insn->bytes, insn->size);
}

/* Can a function's code end with this instruction? */
static bool ends_function(unsigned id)
{
	switch (id) {
	case X86_INS_RET:
	case X86_INS_JMP:
	case X86_INS_LJMP:
	case X86_INS_UD2:
	case X86_INS_INT:
	case X86_INS_HLT:
		return true;
	}
	return false;
}

static int add_ret(struct disasm_check *c, uint64_t at)
{
	if (c->nrets == c->rets_cap) {
		size_t cap = c->rets_cap ? c->rets_cap * 2 : 8;
		uint64_t *n = realloc(c->rets, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->rets = n;
		c->rets_cap = cap;
	}
	c->rets[c->nrets++] = at;
	return 0;
}

/*
 * Decode [from, to) linearly, marking instruction starts in starts (over
 * [from, to), may be NULL). Trailing padding is allowed. With c (a function's
 * own code), also collect its RETs and jumps out of it (tail calls). Returns
 * 0 when decoding ends exactly at `to`.
 */
static int walk(csh cs, cs_insn *insn, const struct gobin *gb, uint64_t from, uint64_t to,
		uint8_t *starts, struct disasm_walk *w, struct disasm_check *c)
{
	size_t size = to - from;
	const uint8_t *code = gobin__data(gb, from, size);
	uint64_t pc = from, dest;

	memset(w, 0, sizeof(*w));
	w->stop = from;
	if (!code)
		return -EINVAL;
	while (size) {
		uint64_t at = pc;

		if (!cs_disasm_iter(cs, &code, &size, &pc, insn)) {
			if (!all_padding(code, size))
				return -EINVAL;
			break;
		}
		if (starts)
			starts[(at - from) >> 3] |= 1u << ((at - from) & 7);
		if (at == from)
			w->pad_first = is_pad_insn(insn);
		if (!is_pad_insn(insn)) {
			w->last = at;
			w->prev_id = w->last_id;
			w->last_id = insn->id;
		}
		w->stop = pc;
		if (!c)
			continue;
		c->ninsns++;
		if (insn->id == X86_INS_RET && add_ret(c, at))
			return -ENOMEM;
		if ((insn->id == X86_INS_JMP || jcc_cc(insn->id) >= 0) &&
		    jump_target(insn, &dest) && (dest < from || dest >= to) && !c->ntails++)
			c->tail_target = dest;
	}
	w->stop = to;
	return 0;
}

static bool is_asm(const struct gobin_func *f)
{
	return f->asm_abi0 || (f->flag & 0x4); /* funcFlag_ASM, Go 1.18+ */
}

/* Why f's entry does not follow the code of the function before it, or "" when it does. */
static void check_prev(csh cs, cs_insn *insn, const struct gobin *gb, const struct gobin_func *f,
		       const struct disasm_check *c, char *why, size_t len)
{
	const struct gobin_func *p = NULL;
	struct disasm_walk w;
	size_t i = f->index;
	int err;

	why[0] = '\0';
	while (i > 0 && (p = gobin__func(gb, --i)) && p->entry == f->entry)
		p = NULL;
	if (!p || p->entry > f->entry || f->entry - p->entry > FUNC_MAX_BYTES)
		return;
	/* a glob checks functions in table order: p was often just walked, to the same end */
	if (c->walked == p && p->end == f->entry) {
		w = c->walk;
		err = c->walk_err;
	} else {
		err = walk(cs, insn, gb, p->entry, f->entry, NULL, &w, NULL);
	}
	if (!err) {
		/* Go puts a NOP after a last CALL, so that its return PC is in the function */
		bool nop_after_call = w.last_id == X86_INS_NOP && w.prev_id == X86_INS_CALL;

		if (w.last && !ends_function(w.last_id) && !nop_after_call && !is_asm(p))
			snprintf(why, len, "%s does not end there", p->name);
		return;
	}
	/* undecodable, or an instruction that runs past the entry */
	{
		const uint8_t *code = gobin__data(gb, w.stop, 16);
		size_t size = 16;
		uint64_t pc = w.stop;

		if (code && cs_disasm_iter(cs, &code, &size, &pc, insn) && pc > f->entry)
			snprintf(why, len, "it is inside %s's instruction at 0x%lx", p->name,
				 (unsigned long)w.stop);
		else if (!is_asm(p))
			snprintf(why, len, "%s cannot be decoded up to it", p->name);
		/*
		 * else assembly with data, or instructions capstone does not know
		 * (chacha20poly1305's AVX2): where its instructions end is unknown,
		 * and the alignment and .symtab have to do.
		 */
	}
}

int disasm__check(const struct gobin *gb, const struct gobin_func *f, struct disasm_check *c)
{
	uint32_t align = gobin__func_align(gb, f);
	char prev[160];
	uint64_t sym;
	size_t n = 0;
	struct disasm_walk w;
	cs_insn *insn;
	csh cs;

	if (c->f == f)
		return c->err;
	disasm__check_free(c);
	c->f = f;
	c->err = 0;
	c->why[0] = '\0';
	c->undecodable = 0;
	c->empty = false;
	c->nrets = c->ntails = c->ninsns = 0;
	if (f->end <= f->entry || f->end - f->entry > FUNC_MAX_BYTES) {
		snprintf(c->why, sizeof(c->why), "its size %lu is implausible",
			 (unsigned long)(f->end - f->entry));
		return c->err = -EINVAL;
	}
	c->starts = calloc((f->end - f->entry + 7) / 8, 1);
	if (!c->starts) {
		c->f = NULL;
		return -ENOMEM;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		c->f = NULL;
		return -ENOMEM;
	}
	insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		c->f = NULL;
		return -ENOMEM;
	}
	if (f->entry % align)
		n += snprintf(c->why + n, sizeof(c->why) - n, "not %u-byte aligned", align);
	if (gobin__func_symbol(gb, f, &sym) == 0 && sym != f->entry && n < sizeof(c->why))
		n += snprintf(c->why + n, sizeof(c->why) - n, "%s.symtab says 0x%lx", n ? "; " : "",
			      (unsigned long)sym);
	check_prev(cs, insn, gb, f, c, prev, sizeof(prev));
	if (prev[0] && n < sizeof(c->why))
		n += snprintf(c->why + n, sizeof(c->why) - n, "%s%s", n ? "; " : "", prev);
	if (!n) {
		c->walk_err = walk(cs, insn, gb, f->entry, f->end, c->starts, &w, c);
		if (c->walk_err == -ENOMEM) {
			cs_free(insn, 1);
			cs_close(&cs);
			c->f = NULL;
			return -ENOMEM;
		}
		c->walk = w;
		c->walked = f;
	}
	if (!n && c->walk_err) {
		c->undecodable = w.stop;
		n = 1;
	} else if (!n && !w.last) {
		c->empty = true;
		n = 1;
	} else if (!n && w.pad_first) {
		n = snprintf(c->why, sizeof(c->why), "it is padding, INT3 or zero bytes");
	}
	cs_free(insn, 1);
	cs_close(&cs);
	if (n)
		c->err = -EINVAL;
	return c->err;
}

bool disasm__is_start(const struct disasm_check *c, uint64_t addr)
{
	uint64_t i;

	if (!c->f || c->err || !c->starts || addr < c->f->entry || addr >= c->f->end)
		return false;
	i = addr - c->f->entry;
	return c->starts[i >> 3] & (1u << (i & 7));
}

void disasm__check_free(struct disasm_check *c)
{
	free(c->starts);
	c->starts = NULL;
	c->f = NULL;
}

void disasm__check_release(struct disasm_check *c)
{
	disasm__check_free(c);
	free(c->rets);
	c->rets = NULL;
	c->rets_cap = c->nrets = 0;
	c->walked = NULL;
}

void disasm__free(struct disasm_func *d)
{
	if (!d)
		return;
	free(d->rets);
	d->rets = NULL;
	d->nrets = 0;
}
