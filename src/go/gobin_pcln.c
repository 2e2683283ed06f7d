// SPDX-License-Identifier: BSD-2-Clause
/*
 * Finding and checking the pclntab (the function table) and
 * runtime.moduledata, in each release's layout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"
#include "gobin_internal.h"
#include "log.h"

/* struct func_layout and struct md_layout (gobin_internal.h) per release */
static const struct func_layout func_12 = {40, true, 8, 12, 24, 28, 32, -1, 36, -1, 39, 40};
static const struct func_layout func_116 = {44, true, 8, 12, 24, 28, 32, 36, 40, 41, 43, 44};
static const struct func_layout func_118 = {40, false, 4, 8, 20, 24, 28, 32, 36, 37, 39, 40};
/* Go 1.20 inserted startLine before funcID, along with the new magic. */
static const struct func_layout func_120 = {44, false, 4, 8, 20, 24, 28, 32, 40, 41, 43, 44};

static const struct md_layout md_layouts[] = {
	{2, 96, 200, 208, -1, -1, 240, -1, -1},	     /* pclntable/ftab/filetab slices */
	{16, 176, 280, 288, -1, -1, 320, -1, -1},    /* pcHeader and split tables */
	{18, 176, 280, 288, 304, -1, 336, -1, -1},   /* + rodata, gofunc */
	{20, 176, 296, 304, 320, -1, 352, -1, -1},   /* + covctrs */
	{26, 176, 296, 304, 320, 328, 360, -1, -1},  /* + epclntab */
	{27, 176, 296, 312, 344, 352, -1, 320, 328}, /* typedesclen, itabs; no typelinks */
};

static bool pcln_header(const uint8_t *p, uint64_t avail, struct pcln *pc)
{
	uint64_t hdr, esz, need;

	memset(pc, 0, sizeof(*pc));
	if (avail < 16)
		return false;
	switch (le32(p)) {
	case 0xfffffffb:
		pc->fmt = GOBIN_PCLN_12;
		break;
	case 0xfffffffa:
		pc->fmt = GOBIN_PCLN_116;
		break;
	case 0xfffffff0:
		pc->fmt = GOBIN_PCLN_118;
		break;
	case 0xfffffff1:
		pc->fmt = GOBIN_PCLN_120;
		break;
	default:
		return false;
	}
	if (p[4] || p[5] || p[6] != 1 || p[7] != 8)
		return false;
	pc->p = p;
	pc->size = avail;
	pc->nfunc = le64(p + 8);
	if (pc->nfunc == 0)
		return false;
	if (pc->fmt == GOBIN_PCLN_12) {
		uint64_t fo;

		/* functab pairs, the end PC, then the offset of the file table */
		if (avail < 28 || pc->nfunc > (avail - 28) / 16)
			return false;
		pc->ftab = 16;
		fo = 16 + pc->nfunc * 16 + 8;
		if (fo + 4 > avail)
			return false;
		pc->file_lo = le32(p + fo);
		if (pc->file_lo < fo + 4 || pc->file_lo > avail - 4)
			return false;
		pc->nfiles = le32(p + pc->file_lo);
		if (pc->nfiles == 0 || pc->nfiles > (avail - pc->file_lo) / 4)
			return false;
		pc->file_hi = pc->file_lo + pc->nfiles * 4;
		pc->name_hi = pc->pc_hi = avail;
		pc->fl = &func_12;
		return true;
	}
	hdr = pc->fmt == GOBIN_PCLN_116 ? 64 : 72;
	if (avail < hdr)
		return false;
	pc->nfiles = le64(p + 16);
	{
		int o = pc->fmt == GOBIN_PCLN_116 ? 24 : 32;

		pc->name_lo = le64(p + o);
		pc->cu_lo = le64(p + o + 8);
		pc->file_lo = le64(p + o + 16);
		pc->pc_lo = le64(p + o + 24);
		pc->ftab = le64(p + o + 32);
	}
	/* the linker writes the tables in this order, each after the header */
	if (pc->name_lo < hdr || pc->cu_lo < pc->name_lo || pc->file_lo < pc->cu_lo ||
	    pc->pc_lo < pc->file_lo || pc->ftab < pc->pc_lo || pc->ftab > avail)
		return false;
	pc->name_hi = pc->cu_lo;
	pc->cu_hi = pc->file_lo;
	pc->file_hi = pc->pc_lo;
	pc->pc_hi = pc->ftab;
	pc->fbase = pc->ftab;
	esz = pc->fmt == GOBIN_PCLN_116 ? 8 : 4;
	if (pc->nfunc > (avail - pc->ftab) / (2 * esz))
		return false;
	need = (2 * pc->nfunc + 1) * esz;
	if (need > avail - pc->ftab)
		return false;
	pc->fl = pc->fmt == GOBIN_PCLN_116   ? &func_116
		 : pc->fmt == GOBIN_PCLN_118 ? &func_118
					     : &func_120;
	return true;
}

uint64_t gobin_ftab_entry(const struct gobin *gb, const struct pcln *pc, uint64_t i)
{
	if (pc->fmt == GOBIN_PCLN_12 || pc->fmt == GOBIN_PCLN_116) {
		uint64_t o = pc->ftab + i * 16;

		return gobin_ptr_at(gb, pc->addr + o, pc->p + o);
	}
	return pc->text + le32(pc->p + pc->ftab + i * 8);
}

uint64_t gobin_ftab_funcoff(const struct pcln *pc, uint64_t i)
{
	if (pc->fmt == GOBIN_PCLN_12 || pc->fmt == GOBIN_PCLN_116)
		return le64(pc->p + pc->ftab + i * 16 + 8);
	return le32(pc->p + pc->ftab + i * 8 + 4);
}

/*
 * The functab is sorted, starts and ends in executable code, and each
 * _func record repeats its entry: a header that passes all this is the real
 * table, not bytes that happen to look like a magic number.
 */
static bool pcln_functab_ok(const struct gobin *gb, const struct pcln *pc, const char **why)
{
	uint64_t prev = 0, last = gobin_ftab_entry(gb, pc, pc->nfunc);

	*why = "functions outside executable code";
	if (!gobin_in_exec(gb, gobin_ftab_entry(gb, pc, 0)) ||
	    !gobin_in_exec(gb, last - (last > 0)))
		return false;
	for (uint64_t i = 0; i < pc->nfunc; i++) {
		uint64_t e = gobin_ftab_entry(gb, pc, i), fo = gobin_ftab_funcoff(pc, i), fe;
		const uint8_t *f;

		if (e < prev || e > last) {
			*why = "function table not sorted";
			return false;
		}
		prev = e;
		if (fo > pc->size - pc->fbase ||
		    pc->size - pc->fbase - fo < (uint64_t)pc->fl->hdr) {
			*why = "function record past end of table";
			return false;
		}
		f = pc->p + pc->fbase + fo;
		fe = pc->fl->entry_is_ptr ? gobin_ptr_at(gb, pc->addr + pc->fbase + fo, f)
					  : pc->text + le32(f);
		if (fe != e) {
			*why = "function record does not match the function table";
			return false;
		}
	}
	return true;
}

/*
 * Locate the module data: the runtime's own index of the tables, whose first
 * word points at the pclntab header (1.16+: pcHeader; before: the pclntable
 * slice). It is needed for text (Go 1.26+ leaves pcHeader.textStart 0),
 * types and gofunc.
 */
static bool md_check(struct gobin *gb, uint64_t x)
{
	const struct pcln *pc = &gb->pc;
	uint64_t v;

	if (!gobin_read_ptr(gb, x, &v) || v != pc->addr)
		return false;
	if (pc->fmt == GOBIN_PCLN_12)
		return gobin_read_ptr(gb, x + 24, &v) && v == pc->addr + pc->ftab;
	if (!gobin_read_ptr(gb, x + 8, &v) || v != pc->addr + pc->name_lo)
		return false;
	if (!gobin_read_ptr(gb, x + 32, &v) || v != pc->addr + pc->cu_lo)
		return false;
	return gobin_read_ptr(gb, x + 128, &v) && v == pc->addr + pc->ftab;
}

static const struct md_layout *md_pick(struct gobin *gb, uint64_t x)
{
	const struct md_layout *l = NULL;
	size_t n = sizeof(md_layouts) / sizeof(md_layouts[0]);
	uint64_t end = gb->pc.addr + gb->pc.size, v;

	if (gb->pc.fmt == GOBIN_PCLN_12)
		return &md_layouts[0];
	if (gb->pc.fmt == GOBIN_PCLN_116)
		return &md_layouts[1];
	if (gb->pc.fmt == GOBIN_PCLN_118)
		return &md_layouts[2];
	if (gb->info.go_minor >= 20) {
		for (size_t i = 0; i < n; i++)
			if (md_layouts[i].minor <= gb->info.go_minor)
				l = &md_layouts[i];
		return l;
	}
	/* version unknown: epclntab, where it exists, points just past the pclntab */
	if (gobin_read_ptr(gb, x + md_layouts[5].epclntab, &v) && v > gb->pc.addr && v <= end)
		return &md_layouts[5];
	if (gobin_read_ptr(gb, x + md_layouts[4].epclntab, &v) && v > gb->pc.addr && v <= end)
		return &md_layouts[4];
	return &md_layouts[3];
}

static bool md_scan(struct gobin *gb, bool writable)
{
	for (size_t i = 0; i < gb->nsegs; i++) {
		const struct seg *s = &gb->segs[i];

		if ((s->flags & PF_X) || !(s->flags & PF_W) != !writable)
			continue;
		for (uint64_t o = (8 - (s->vaddr & 7)) & 7; o + 8 <= s->filesz; o += 8) {
			if (le64(gb->map + s->off + o) == gb->pc.addr &&
			    md_check(gb, s->vaddr + o)) {
				gb->md_addr = s->vaddr + o;
				return true;
			}
		}
	}
	for (size_t i = 0; writable && i < gb->nrelocs; i++) {
		if (gb->relocs[i].value == gb->pc.addr && md_check(gb, gb->relocs[i].where)) {
			gb->md_addr = gb->relocs[i].where;
			return true;
		}
	}
	return false;
}

bool gobin_md_find(struct gobin *gb)
{
	const Elf64_Shdr *sh;
	uint64_t v;

	if (gb->md_state)
		return gb->md_state > 0;
	gb->md_state = -1;
	sh = gobin_find_section(gb, ".go.module");
	if (sh && md_check(gb, sh->sh_addr))
		gb->md_addr = sh->sh_addr;
	else if (!gb->pc.p || (!md_scan(gb, true) && !md_scan(gb, false)))
		return false;
	gb->md = md_pick(gb, gb->md_addr);
	if (!gobin_read_ptr(gb, gb->md_addr + gb->md->types, &gb->types) ||
	    !gobin_read_ptr(gb, gb->md_addr + gb->md->etypes, &gb->etypes) ||
	    gb->types > gb->etypes)
		return false;
	if (gb->md->gofunc >= 0 && gobin_read_ptr(gb, gb->md_addr + gb->md->gofunc, &v))
		gb->gofunc = v;
	gb->md_state = 1;
	pr_debug("gobin: %s: module data at %#lx (layout of go1.%d), types %#lx-%#lx\n", gb->path,
		 (unsigned long)gb->md_addr, gb->md->minor, (unsigned long)gb->types,
		 (unsigned long)gb->etypes);
	return true;
}

/*
 * textStart for 1.18+ tables: the header, else (Go 1.26+, which leaves it 0)
 * the module data, else runtime.text.
 */
static uint64_t pcln_text(struct gobin *gb)
{
	uint64_t t = 0;

	gobin_read_ptr(gb, gb->pc.addr + 24, &t);
	if (!t && gobin_md_find(gb))
		gobin_read_ptr(gb, gb->md_addr + gb->md->text, &t);
	if (!t)
		gobin__symbol(gb, "runtime.text", &t, NULL);
	return t;
}

/*
 * runtime.text from the module data and .symtab, where they exist, must
 * agree with the base the function table was read with.
 */
int gobin_check_text(struct gobin *gb)
{
	uint64_t md_text = 0, sym_text = 0;

	if (gb->md_state > 0)
		gobin_read_ptr(gb, gb->md_addr + gb->md->text, &md_text);
	gobin__symbol(gb, "runtime.text", &sym_text, NULL);
	if (gb->pc.fmt < GOBIN_PCLN_118) {
		gb->pc.text = md_text ? md_text : sym_text;
		return 0;
	}
	if ((md_text && md_text != gb->pc.text) || (sym_text && sym_text != gb->pc.text)) {
		lp_seterr("%s: Go function table starts text at %#lx but runtime.text is at %#lx; "
			  "luprobe cannot trust its addresses (please report this binary)",
			  gb->path, (unsigned long)gb->pc.text,
			  (unsigned long)(md_text && md_text != gb->pc.text ? md_text : sym_text));
		return -EINVAL;
	}
	return 0;
}

static bool pcln_try(struct gobin *gb, uint64_t addr, const uint8_t *p, uint64_t avail,
		     const char **why)
{
	*why = "bad header";
	gb->md_state = 0;
	if (!pcln_header(p, avail, &gb->pc))
		return false;
	gb->pc.addr = addr;
	if (gb->pc.fmt >= GOBIN_PCLN_118) {
		gb->pc.text = pcln_text(gb);
		if (!gb->pc.text) {
			*why = "no text start address";
			return false;
		}
	}
	return pcln_functab_ok(gb, &gb->pc, why);
}

/* Headers that pass the cheap checks are validated in full at most this often. */
#define MAX_PCLN_CANDIDATES 64

int gobin_find_pcln(struct gobin *gb)
{
	static const char *const names[] = {".gopclntab", ".data.rel.ro.gopclntab"};
	size_t tried = 0;
	const char *why;

	for (size_t i = 0; i < 2; i++) {
		const Elf64_Shdr *sh = gobin_find_section(gb, names[i]);
		uint64_t avail;
		const uint8_t *p;

		if (!sh || sh->sh_type == SHT_NOBITS)
			continue;
		p = gobin_data_avail(gb, sh->sh_addr, &avail);
		if (avail > sh->sh_size)
			avail = sh->sh_size;
		if (p && pcln_try(gb, sh->sh_addr, p, avail, &why))
			return 0;
		memset(&gb->pc, 0, sizeof(gb->pc));
		return gobin_pcln_corrupt(gb, p ? why : "outside the loaded segments", names[i]);
	}
	/* no section: PIE and externally linked binaries keep it in (relro) data */
	for (size_t i = 0; i < gb->nsegs && tried < MAX_PCLN_CANDIDATES; i++) {
		const struct seg *s = &gb->segs[i];

		if (s->flags & PF_X)
			continue;
		for (uint64_t o = (8 - (s->vaddr & 7)) & 7; o + 16 <= s->filesz; o += 8) {
			const uint8_t *p = gb->map + s->off + o;
			struct pcln probe;

			if (p[1] != 0xff || p[2] != 0xff || p[3] != 0xff || p[7] != 8 ||
			    !pcln_header(p, s->filesz - o, &probe))
				continue;
			if (pcln_try(gb, s->vaddr + o, p, s->filesz - o, &why)) {
				pr_debug("gobin: %s: pclntab found by its header at %#lx\n",
					 gb->path, (unsigned long)(s->vaddr + o));
				return 0;
			}
			if (++tried == MAX_PCLN_CANDIDATES)
				break;
		}
	}
	memset(&gb->pc, 0, sizeof(gb->pc));
	gb->md_state = 0;
	lp_seterr("%s: not a Go binary (no Go function table found)", gb->path);
	return -ENOEXEC;
}
