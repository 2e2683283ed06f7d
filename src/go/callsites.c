// SPDX-License-Identifier: BSD-2-Clause
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include "capstone_loader.h"
#include "callsites.h"

bool callsites__plain_func(const char *name)
{
	const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
	const char *dot = strchr(base, '.');

	/* after the package name: no receiver, closure suffix or type arguments */
	if (!dot || !dot[1])
		return false;
	return !strpbrk(dot + 1, ".([*");
}

struct cand {
	uint64_t pc;	 /* where the bytes that may encode the reference are */
	uint32_t target; /* index into out[] */
};

struct scan {
	const struct gobin *gb;
	struct callsites *out;
	size_t n;
	uint64_t lo, hi;       /* text range */
	uint8_t *exact, *near; /* bitmaps over [lo, hi) */
	struct cand *cands;
	size_t ncands, cap;
};

static bool bit(const uint8_t *bm, const struct scan *s, uint64_t a)
{
	if (a < s->lo || a >= s->hi)
		return false;
	a -= s->lo;
	return bm[a >> 3] & (1u << (a & 7));
}

static void set_bit(uint8_t *bm, const struct scan *s, uint64_t a)
{
	if (a < s->lo || a >= s->hi)
		return;
	a -= s->lo;
	bm[a >> 3] |= 1u << (a & 7);
}

static struct callsites *target_of(struct scan *s, uint64_t a)
{
	size_t lo = 0, hi = s->n;

	/* out[] is sorted by target (callsites__find sorts a copy of the order) */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->out[mid].target < a)
			lo = mid + 1;
		else if (s->out[mid].target > a)
			hi = mid;
		else
			return &s->out[mid];
	}
	return NULL;
}

static void reject(struct callsites *c, const char *why)
{
	if (c->eligible) {
		c->eligible = false;
		c->why = why;
	}
}

static int add_cand(struct scan *s, uint64_t pc, uint64_t target)
{
	struct callsites *c = target_of(s, target);

	if (!c || !c->eligible)
		return 0;
	if (s->ncands == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct cand *n = realloc(s->cands, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->cands = n;
		s->cap = cap;
	}
	s->cands[s->ncands].pc = pc;
	s->cands[s->ncands].target = c - s->out;
	s->ncands++;
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Function values, itabs, init tasks...: a stored address can be called indirectly. */
static void scan_data(struct scan *s, const struct gobin_section *sec)
{
	uint64_t off = (8 - (sec->addr & 7)) & 7, v;

	for (; off + 8 <= sec->size; off += 8) {
		v = le64(sec->data + off);
		if (bit(s->exact, s, v))
			reject(target_of(s, v), "its address is stored in data (a function value)");
	}
}

static bool in_pclntab(const struct gobin *gb, uint64_t addr)
{
	struct gobin_section sec;
	size_t i;

	for (i = 0; gobin__section(gb, i, &sec); i++)
		if (strstr(sec.name, "gopclntab") && addr >= sec.addr && addr - sec.addr < sec.size)
			return true;
	return false;
}

/* A PIE stores addresses as relocations: the address is the addend. */
static void scan_relocs(struct scan *s, const struct gobin_section *sec)
{
	uint64_t off;

	for (off = 0; off + sizeof(Elf64_Rela) <= sec->size; off += sizeof(Elf64_Rela)) {
		Elf64_Rela r;

		memcpy(&r, sec->data + off, sizeof(r));
		if (!bit(s->exact, s, (uint64_t)r.r_addend))
			continue;
		/* the function table of old pclntabs holds every entry: not a call path */
		if (in_pclntab(s->gb, r.r_offset))
			continue;
		reject(target_of(s, r.r_addend),
		       "its address is in a relocation (a function value)");
	}
}

/* Byte patterns in code that may encode the address of a target. */
static int scan_text(struct scan *s, const struct gobin_section *sec)
{
	static const int imm_after[] = {0, 1, 2, 4};
	uint64_t q;
	int err;

	for (q = 0; q + 4 <= sec->size; q++) {
		uint64_t pc = sec->addr + q;
		uint32_t u = le32(sec->data + q);
		/* rel32 (CALL, JMP, Jcc) or RIP-relative disp32, maybe followed by an immediate */
		uint64_t t = pc + 4 + (int64_t)(int32_t)u;
		size_t k;

		if (bit(s->near, s, t)) {
			for (k = 0; k < sizeof(imm_after) / sizeof(imm_after[0]); k++)
				if (bit(s->exact, s, t + imm_after[k]) &&
				    (err = add_cand(s, pc, t + imm_after[k])))
					return err;
		}
		/* absolute addresses: imm32/disp32 (non-PIE) and movabs imm64 */
		if (bit(s->exact, s, u) && (err = add_cand(s, pc, u)))
			return err;
		if (q + 8 <= sec->size && bit(s->exact, s, le64(sec->data + q)) &&
		    (err = add_cand(s, pc, le64(sec->data + q))))
			return err;
	}
	return 0;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static bool refers_to(const cs_insn *insn, uint64_t target)
{
	const cs_x86 *x = &insn->detail->x86;
	int i;

	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_IMM && (uint64_t)op->imm == target)
			return true;
		if (op->type != X86_OP_MEM)
			continue;
		if (op->mem.base == X86_REG_RIP &&
		    insn->address + insn->size + (int64_t)op->mem.disp == target)
			return true;
		if (op->mem.base == X86_REG_INVALID && op->mem.index == X86_REG_INVALID &&
		    (uint64_t)op->mem.disp == target)
			return true;
	}
	return false;
}

static int add_site(struct callsites *c, uint64_t pc)
{
	uint64_t *n;

	if (c->nsites && c->sites[c->nsites - 1] == pc)
		return 0;
	n = realloc(c->sites, (c->nsites + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->sites = n;
	c->sites[c->nsites++] = pc;
	return 0;
}

/* Decode the function holding cands[i..j) and classify each. */
static int classify(struct scan *s, csh cs, cs_insn *insn, size_t i, size_t j,
		    const struct gobin_func *f)
{
	size_t size = f->end - f->entry;
	const uint8_t *code = gobin__data(s->gb, f->entry, size);
	uint64_t pc = f->entry;
	int err;

	if (!code) {
		for (; i < j; i++)
			reject(&s->out[s->cands[i].target], "a caller's code is not in the file");
		return 0;
	}
	while (i < j) {
		struct cand *c = &s->cands[i];
		struct callsites *t = &s->out[c->target];

		if (!cs_disasm_iter(cs, &code, &size, &pc, insn)) {
			/* INT3 padding after the last instruction holds no reference */
			if (size && code[0] == 0xcc) {
				code++, size--, pc++;
				if (c->pc < pc)
					i++;
				continue;
			}
			for (; i < j; i++)
				reject(&s->out[s->cands[i].target],
				       "a function that refers to it cannot be decoded");
			return 0;
		}
		while (i < j && s->cands[i].pc < insn->address + insn->size) {
			c = &s->cands[i];
			t = &s->out[c->target];
			if (c->pc >= insn->address && refers_to(insn, t->target)) {
				if (insn->id == X86_INS_CALL && insn->bytes[0] == 0xe8) {
					if ((err = add_site(t, insn->address)))
						return err;
				} else {
					reject(t, insn->id == X86_INS_JMP ? "a JMP reaches it"
						  : insn->id == X86_INS_LEA
							  ? "its address is taken (LEA)"
							  : "an instruction other than CALL refers "
							    "to it");
				}
			}
			i++;
		}
	}
	return 0;
}

int callsites__find(const struct gobin *gb, struct callsites *out, size_t n)
{
	struct scan s = {.gb = gb, .out = out, .n = n, .lo = UINT64_MAX, .hi = 0};
	struct gobin_section sec;
	cs_insn *insn = NULL;
	size_t i, j;
	csh cs;
	int err = 0;

	for (i = 0; i < n; i++) {
		out[i].eligible = true;
		out[i].why = NULL;
		out[i].nsites = 0;
		out[i].sites = NULL;
	}
	for (i = 0; gobin__section(gb, i, &sec); i++) {
		if ((sec.flags & SHF_EXECINSTR) && (sec.flags & SHF_ALLOC) && sec.data) {
			if (sec.addr < s.lo)
				s.lo = sec.addr;
			if (sec.addr + sec.size > s.hi)
				s.hi = sec.addr + sec.size;
		}
	}
	if (s.lo >= s.hi) {
		for (i = 0; i < n; i++)
			reject(&out[i], "the file has no section headers");
		return 0;
	}
	s.exact = calloc((s.hi - s.lo + 7) / 8, 1);
	s.near = calloc((s.hi - s.lo + 7) / 8, 1);
	if (!s.exact || !s.near) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (i && out[i].target <= out[i - 1].target) {
			err = -EINVAL; /* the caller must sort the targets */
			goto out;
		}
		if (out[i].target < s.lo || out[i].target >= s.hi) {
			reject(&out[i], "not in the text");
			continue;
		}
		set_bit(s.exact, &s, out[i].target);
		set_bit(s.near, &s, out[i].target);
		set_bit(s.near, &s, out[i].target - 1);
		set_bit(s.near, &s, out[i].target - 2);
		set_bit(s.near, &s, out[i].target - 4);
	}
	for (i = 0; gobin__section(gb, i, &sec) && !err; i++) {
		if (!sec.data)
			continue;
		if (sec.type == SHT_RELA)
			scan_relocs(&s, &sec);
		else if ((sec.flags & SHF_ALLOC) && (sec.flags & SHF_EXECINSTR))
			err = scan_text(&s, &sec);
		else if ((sec.flags & SHF_ALLOC) && !strstr(sec.name, "gopclntab"))
			scan_data(&s, &sec);
	}
	if (err || !s.ncands)
		goto out;
	qsort(s.cands, s.ncands, sizeof(*s.cands), cand_cmp);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		err = -ENOMEM;
		goto out;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	for (i = 0; insn && i < s.ncands && !err; i = j) {
		const struct gobin_func *f = gobin__func_at(gb, s.cands[i].pc);

		if (!f) {
			reject(&out[s.cands[i].target], "code outside any function refers to it");
			j = i + 1;
			continue;
		}
		for (j = i + 1; j < s.ncands && s.cands[j].pc < f->end; j++)
			;
		err = classify(&s, cs, insn, i, j, f);
	}
	if (!insn)
		err = -ENOMEM;
	cs_free(insn, 1);
	cs_close(&cs);
out:
	free(s.exact);
	free(s.near);
	free(s.cands);
	for (i = 0; i < n; i++) {
		if (!out[i].eligible || err) {
			free(out[i].sites);
			out[i].sites = NULL;
			out[i].nsites = 0;
		} else if (!out[i].nsites) {
			reject(&out[i], "no direct call of it was found");
		}
	}
	return err;
}

void callsites__free(struct callsites *cs, size_t n)
{
	size_t i;

	for (i = 0; cs && i < n; i++) {
		free(cs[i].sites);
		cs[i].sites = NULL;
		cs[i].nsites = 0;
	}
}
