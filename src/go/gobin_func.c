// SPDX-License-Identifier: BSD-2-Clause
/*
 * The functions of the pclntab: their records, lines, funcdata and flags,
 * the name index, the cross-check with .symtab, and lookups by name and pc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"
#include "gobin_internal.h"
#include "log.h"

/* The value of pcvalue table off (relative to pctab) at pc, or false. */
static bool pcvalue(const struct gobin *gb, const struct gobin_func *f, uint32_t off, uint64_t pc,
		    int32_t *out)
{
	const struct pcln *t = &gb->pc;
	const uint8_t *p, *end = t->p + t->pc_hi;
	uint64_t cur = f->entry;
	int32_t val = -1;
	bool first = true;

	if (!off || off >= t->pc_hi - t->pc_lo)
		return false;
	p = t->p + t->pc_lo + off;
	while (p < end) {
		uint64_t uv, pcd;
		size_t n = uvarint(p, end, &uv);

		if (!n || (uv == 0 && !first))
			return false;
		p += n;
		/* int32 arithmetic that wraps, as the runtime's does */
		val = (int32_t)((uint32_t)val +
				((uv & 1) ? ~(uint32_t)(uv >> 1) : (uint32_t)(uv >> 1)));
		n = uvarint(p, end, &pcd);
		if (!n)
			return false;
		p += n;
		cur += pcd;
		first = false;
		if (pc < cur) {
			*out = val;
			return true;
		}
	}
	return false;
}

static const uint8_t *func_rec(const struct gobin *gb, const struct gobin_func *f)
{
	return gb->pc.p + gb->pc.fbase + gb->foff[f->index];
}

static const char *file_name(const struct gobin *gb, const struct gobin_func *f, int32_t fno)
{
	const struct pcln *t = &gb->pc;
	uint64_t so;

	if (fno < 0)
		return NULL;
	if (t->fmt == GOBIN_PCLN_12) {
		if ((uint64_t)fno >= t->nfiles || fno == 0)
			return NULL;
		so = le32(t->p + t->file_lo + 4 * (uint64_t)fno);
		if (so >= t->size || !memchr(t->p + so, '\0', t->size - so))
			return NULL;
		return (const char *)t->p + so;
	}
	{
		uint64_t idx = (uint64_t)le32(func_rec(gb, f) + t->fl->cuoff) + (uint64_t)fno;
		uint32_t fo;

		if (idx >= (t->cu_hi - t->cu_lo) / 4)
			return NULL;
		fo = le32(t->p + t->cu_lo + idx * 4);
		if (fo == UINT32_MAX || fo >= t->file_hi - t->file_lo)
			return NULL;
		so = t->file_lo + fo;
		if (!memchr(t->p + so, '\0', t->file_hi - so))
			return NULL;
		return (const char *)t->p + so;
	}
}

int gobin__pc_line(const struct gobin *gb, const struct gobin_func *f, uint64_t pc,
		   const char **file, int *line)
{
	const uint8_t *r;
	int32_t fno, ln;

	if (!gb || !f || f->index >= gb->info.nfuncs || pc < f->entry || pc >= f->end)
		return -ENOENT;
	r = func_rec(gb, f);
	if (!pcvalue(gb, f, le32(r + gb->pc.fl->pcfile), pc, &fno) ||
	    !pcvalue(gb, f, le32(r + gb->pc.fl->pcln), pc, &ln))
		return -ENOENT;
	if (file) {
		*file = file_name(gb, f, fno);
		if (!*file)
			return -ENOENT;
	}
	if (line)
		*line = ln;
	return 0;
}

int gobin_load_funcs(struct gobin *gb)
{
	struct pcln *t = &gb->pc;
	uint64_t n = t->nfunc;

	if (n > UINT32_MAX / 2)
		return gobin_pcln_corrupt(gb, "too many functions", NULL);
	gb->funcs = calloc(n, sizeof(*gb->funcs));
	gb->foff = calloc(n, sizeof(*gb->foff));
	gb->nlen = calloc(n, sizeof(*gb->nlen));
	if (!gb->funcs || !gb->foff || !gb->nlen)
		return -ENOMEM;
	gb->info.nfuncs = n;
	for (uint64_t i = 0; i < n; i++) {
		struct gobin_func *f = &gb->funcs[i];
		uint64_t fo = gobin_ftab_funcoff(t, i), nlo, nhi;
		const uint8_t *r, *nul;
		int32_t nameoff;

		if (fo > UINT32_MAX)
			return gobin_pcln_corrupt(gb, "function record offset too large", NULL);
		gb->foff[i] = (uint32_t)fo;
		f->index = (uint32_t)i;
		f->entry = gobin_ftab_entry(gb, t, i);
		f->end = gobin_ftab_entry(gb, t, i + 1);
		r = t->p + t->fbase + fo;
		nameoff = (int32_t)le32(r + t->fl->nameoff);
		nlo = t->name_lo;
		nhi = t->name_hi;
		if (nameoff < 0 || (uint64_t)nameoff >= nhi - nlo)
			return gobin_pcln_corrupt(gb, "function name outside the name table", NULL);
		f->name = (const char *)t->p + nlo + nameoff;
		nul = memchr(f->name, '\0', nhi - nlo - (uint64_t)nameoff);
		if (!nul || nul - (const uint8_t *)f->name > UINT32_MAX)
			return gobin_pcln_corrupt(gb, "function name outside the name table", NULL);
		gb->nlen[i] = (uint32_t)(nul - (const uint8_t *)f->name);
		f->args = (int32_t)le32(r + t->fl->args);
		if (f->args == ARGS_SIZE_UNKNOWN)
			f->args = -1;
	}
	return 0;
}

/*
 * Raw funcdata slot idx of f: an absolute pointer before Go 1.18 (0 when
 * absent), a 32-bit offset from moduledata.gofunc since (~0 when absent).
 * False when f has no such slot or the record is unreadable.
 */
static bool funcdata_raw(const struct gobin *gb, const struct gobin_func *f, unsigned idx,
			 uint64_t *raw)
{
	const struct func_layout *fl = gb->pc.fl;
	const uint8_t *r = func_rec(gb, f);
	uint64_t rel = gb->pc.fbase + gb->foff[f->index], o, npcdata = le32(r + fl->npcdata);

	if (idx >= r[fl->nfuncdata] || npcdata > gb->pc.size)
		return false;
	o = rel + (uint64_t)fl->pcdata + npcdata * 4;
	if (gb->pc.fmt == GOBIN_PCLN_12 || gb->pc.fmt == GOBIN_PCLN_116) {
		/* pointer-aligned in memory, hence the address and not the offset */
		if ((gb->pc.addr + o) & 4)
			o += 4;
		o += (uint64_t)idx * 8;
		if (o + 8 > gb->pc.size)
			return false;
		*raw = gobin_ptr_at(gb, gb->pc.addr + o, gb->pc.p + o);
		return true;
	}
	o += (uint64_t)idx * 4;
	if (o + 4 > gb->pc.size)
		return false;
	*raw = le32(gb->pc.p + o);
	return true;
}

static bool has_funcdata(const struct gobin *gb, const struct gobin_func *f, unsigned idx)
{
	uint64_t raw;

	if (!funcdata_raw(gb, f, idx, &raw))
		return false;
	return gb->pc.fmt >= GOBIN_PCLN_118 ? raw != UINT32_MAX : raw != 0;
}

/*
 * Which functions are ABI0 assembly (gobin_func.asm_abi0):
 *  - assembly: funcFlag_ASM from Go 1.18 on; before, the source file of the
 *    entry PC ends in ".s" (the same answer where both exist);
 *  - ABI0: always before Go 1.17. Since, the assembler gives ABI0 functions
 *    an argument pointer map (funcdata 0) and never ABIInternal ones, but
 *    ABI0 code without a Go prototype has none either; the few assembly
 *    functions declared <ABIInternal> on amd64 are therefore known by name.
 * A trailing '*' makes a prefix.
 */
static const char *const asm_regabi[] = {
	"runtime.memmove",
	"runtime.memclrNoHeapPointers",
	"runtime.memequal",
	"runtime.memequal_varlen",
	"runtime.memhash",
	"runtime.memhash32",
	"runtime.memhash64",
	"runtime.strhash",
	"runtime.cmpstring",
	"runtime.mcall",
	"runtime.duffzero",
	"runtime.duffcopy",
	"runtime.debugCallV2",
	"runtime.gcWriteBarrier*",
	"runtime.panicIndex*",
	"runtime.panicSlice*",
	"runtime.panicBounds*",
	"runtime.raceread",
	"runtime.racewrite",
	"runtime.racereadrange",
	"runtime.racewriterange",
	"time.now",
	"internal/bytealg.Compare",
	"runtime/internal/syscall.Syscall6",
	"internal/runtime/syscall.Syscall6",
};

static bool asm_is_regabi(const struct gobin *gb, const struct gobin_func *f)
{
	size_t n = sizeof(asm_regabi) / sizeof(asm_regabi[0]);

	/* an argument pointer map proves ABI0 whatever the name */
	if (gb->minor < 17 || has_funcdata(gb, f, 0))
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(asm_regabi[i]);

		if (asm_regabi[i][len - 1] == '*' ? strncmp(f->name, asm_regabi[i], len - 1) == 0
						  : strcmp(f->name, asm_regabi[i]) == 0)
			return true;
	}
	return false;
}

/* funcID, flags and assembly marks, once the struct layout is settled */
void gobin_fill_func_flags(struct gobin *gb)
{
	const struct func_layout *fl = gb->pc.fl;

	for (size_t i = 0; i < gb->info.nfuncs; i++) {
		struct gobin_func *f = &gb->funcs[i];
		const uint8_t *r = func_rec(gb, f);

		f->funcid = r[fl->funcid];
		f->flag = fl->flag >= 0 && gb->minor >= 17 ? r[fl->flag] : 0;
		if (gb->minor >= 18) {
			f->asm_abi0 = f->flag & FUNCFLAG_ASM;
		} else {
			/* before the flag existed: the entry's source file is assembly */
			int32_t fno;
			const char *file;
			size_t len;

			if (!pcvalue(gb, f, le32(r + fl->pcfile), f->entry, &fno))
				continue;
			file = file_name(gb, f, fno);
			len = file ? strlen(file) : 0;
			f->asm_abi0 = len > 2 && strcmp(file + len - 2, ".s") == 0;
		}
		if (f->asm_abi0 && asm_is_regabi(gb, f))
			f->asm_abi0 = false;
	}
}

/* Name index */

/* A word-at-a-time hash; names are long and all of them are hashed at open. */
static uint32_t hash_name(const char *s, size_t len)
{
	uint64_t h = 0x243f6a8885a308d3ULL ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 31;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(h ^ h >> 32);
}

int gobin_build_index(struct gobin *gb)
{
	size_t size = 16;

	while (size < gb->info.nfuncs * 2)
		size *= 2;
	gb->htab = calloc(size, sizeof(*gb->htab));
	gb->hval = calloc(size, sizeof(*gb->hval));
	if (!gb->htab || !gb->hval)
		return -ENOMEM;
	gb->hmask = size - 1;
	for (size_t i = 0; i < gb->info.nfuncs; i++) {
		const char *name = gb->funcs[i].name;
		uint32_t hv = hash_name(name, gb->nlen[i]);
		size_t h = hv & gb->hmask;

		/* the first function of a name wins, so lookups follow table order */
		for (; gb->htab[h]; h = (h + 1) & gb->hmask)
			if (gb->hval[h] == hv && strcmp(gb->funcs[gb->htab[h] - 1].name, name) == 0)
				break;
		if (!gb->htab[h]) {
			gb->htab[h] = (uint32_t)i + 1;
			gb->hval[h] = hv;
		}
	}
	return 0;
}

const struct gobin_func *gobin__find_func(const struct gobin *gb, const char *name)
{
	uint32_t hv;

	if (!gb || !name || !gb->htab)
		return NULL;
	hv = hash_name(name, strlen(name));
	for (size_t h = hv & gb->hmask; gb->htab[h]; h = (h + 1) & gb->hmask) {
		const struct gobin_func *f = &gb->funcs[gb->htab[h] - 1];

		if (gb->hval[h] == hv && strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

/*
 * Where .symtab puts f: 1 when one of its FUNC symbols of f's name is at
 * f->entry, 0 when they are all elsewhere (*addr is the first of them), -1
 * when it has none of that name.
 */
static int symtab_entry(const struct gobin *gb, const struct gobin_func *f, uint64_t *addr)
{
	bool any = false;

	/*
	 * The pclntab gives an ABI0 function and its ABIInternal wrapper one
	 * name; .symtab (Go 1.17+) suffixes the ABI0 one with ".abi0".
	 */
	for (int abi0 = 0; abi0 < 2; abi0++) {
		char alt[512];
		const char *name = f->name;
		const struct sym *s;

		if (abi0) {
			if ((size_t)snprintf(alt, sizeof(alt), "%s.abi0", f->name) >= sizeof(alt))
				break;
			name = alt;
		}
		for (s = gobin_sym_lookup(gb, name);
		     s && s < gb->syms + gb->nsyms && strcmp(s->name, name) == 0; s++) {
			if (s->type != STT_FUNC)
				continue;
			if (s->addr == f->entry)
				return 1;
			if (!any)
				*addr = s->addr;
			any = true;
		}
	}
	return any ? 0 : -1;
}

/*
 * .symtab and the pclntab are written from the same symbols by the linker:
 * a function both name must sit at the same address. Many disagreements
 * mean the table was misread, and probes would land in the wrong place.
 */
int gobin_cross_check(struct gobin *gb)
{
	size_t compared = 0, bad = 0;

	for (size_t i = 0; i < gb->info.nfuncs && gb->nsyms; i++) {
		const struct gobin_func *f = &gb->funcs[i];
		uint64_t at;
		int r = symtab_entry(gb, f, &at);

		if (r < 0)
			continue;
		compared++;
		if (!r && ++bad <= 10)
			pr_debug("gobin: %s: %s at %#lx in the pclntab, elsewhere in .symtab\n",
				 gb->path, f->name, (unsigned long)f->entry);
	}
	pr_debug("gobin: %s: %zu of %zu functions compared with .symtab disagree\n", gb->path, bad,
		 compared);
	if (compared >= SYMTAB_MISMATCH_MIN && bad * 10 > compared) {
		lp_seterr("%s: Go function table disagrees with .symtab for %zu of %zu functions; "
			  "luprobe cannot trust its addresses (please report this binary)",
			  gb->path, bad, compared);
		return -EINVAL;
	}
	return 0;
}


size_t gobin__nfuncs(const struct gobin *gb)
{
	return gb ? gb->info.nfuncs : 0;
}

const struct gobin_func *gobin__func(const struct gobin *gb, size_t i)
{
	return gb && i < gb->info.nfuncs ? &gb->funcs[i] : NULL;
}

int gobin__func_symbol(const struct gobin *gb, const struct gobin_func *f, uint64_t *addr)
{
	uint64_t at = 0;
	int r = gb && f && gb->nsyms ? symtab_entry(gb, f, &at) : -1;

	if (r < 0)
		return -ENOENT;
	*addr = r ? f->entry : at;
	return 0;
}

uint32_t gobin__func_align(const struct gobin *gb, const struct gobin_func *f)
{
	/*
	 * cmd/link aligns every function to funcAlign, 32 bytes on amd64 since
	 * Go 1.15 (16 before), unless the symbol carries its own alignment:
	 * assembly with PCALIGN, which Go 1.22-1.24 let lower it to 16
	 * (memeqbody, aeshashbody, crypto/internal/fips140/subtle.xorBytes).
	 * Every function of the binaries in .cache/gobins (Go 1.13-1.27) agrees.
	 */
	if (!gb->info.go_minor || gb->info.go_minor < 15)
		return 16;
	return (f->flag & FUNCFLAG_ASM) || f->asm_abi0 ? 16 : 32;
}

const struct gobin_func *gobin__func_at(const struct gobin *gb, uint64_t pc)
{
	size_t lo = 0, hi;

	if (!gb || !gb->info.nfuncs)
		return NULL;
	hi = gb->info.nfuncs;
	/* last function whose entry is <= pc */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (gb->funcs[mid].entry <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pc >= gb->funcs[lo - 1].end)
		return NULL;
	return &gb->funcs[lo - 1];
}


/* Argument info for tracebacks */

int gobin__arginfo(const struct gobin *gb, const struct gobin_func *f, uint8_t *buf, size_t len)
{
	const uint8_t *p;
	uint64_t addr, raw, avail;
	size_t n = 0;

	if (!gb || !f || f->index >= gb->info.nfuncs || gb->minor < 17)
		return -ENOENT;
	if (!has_funcdata(gb, f, FUNCDATA_ARGINFO))
		return 0;
	funcdata_raw(gb, f, FUNCDATA_ARGINFO, &raw);
	if (gb->pc.fmt >= GOBIN_PCLN_118) {
		if (gb->md_state <= 0 || !gb->gofunc)
			return -ENOENT;
		addr = gb->gofunc + raw;
	} else {
		addr = raw;
	}
	p = gobin_data_avail(gb, addr, &avail);
	if (!p)
		return -EINVAL;
	if (avail > ARGINFO_MAX)
		avail = ARGINFO_MAX;
	for (size_t i = 0; i < avail;) {
		size_t tok = p[i] >= ARGS_FIRST_TOKEN ? 1 : 2;

		if (i + tok > avail)
			break;
		if (n + tok > len)
			return -ENOSPC;
		memcpy(buf + n, p + i, tok);
		n += tok;
		if (p[i] == ARGS_END_SEQ)
			return (int)n;
		i += tok;
	}
	return -EINVAL;
}
