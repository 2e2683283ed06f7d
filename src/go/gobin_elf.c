// SPDX-License-Identifier: BSD-2-Clause
/*
 * ELF layout of a Go binary: segments and addresses, section headers,
 * dynamic relocations, .symtab and the TLS segment.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"
#include "gobin_internal.h"
#include "log.h"

/* Segments and addresses */

static const struct seg *seg_of(const struct gobin *gb, uint64_t vaddr)
{
	for (size_t i = 0; i < gb->nsegs; i++) {
		const struct seg *s = &gb->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz)
			return s;
	}
	return NULL;
}

bool gobin_in_exec(const struct gobin *gb, uint64_t vaddr)
{
	for (size_t i = 0; i < gb->nsegs; i++) {
		const struct seg *s = &gb->segs[i];

		if ((s->flags & PF_X) && vaddr >= s->vaddr && vaddr - s->vaddr < s->memsz)
			return true;
	}
	return false;
}

int gobin__vaddr_to_offset(const struct gobin *gb, uint64_t vaddr, uint64_t *off)
{
	const struct seg *s = gb ? seg_of(gb, vaddr) : NULL;

	if (!s)
		return -ENOENT;
	*off = s->off + (vaddr - s->vaddr);
	return 0;
}

const void *gobin__data(const struct gobin *gb, uint64_t vaddr, size_t len)
{
	const struct seg *s = gb ? seg_of(gb, vaddr) : NULL;
	uint64_t rel;

	if (!s)
		return NULL;
	rel = vaddr - s->vaddr;
	if (len > s->filesz - rel)
		return NULL;
	return gb->map + s->off + rel;
}

/* Bytes readable at vaddr up to the end of its segment's file data. */
const uint8_t *gobin_data_avail(const struct gobin *gb, uint64_t vaddr, uint64_t *avail)
{
	const struct seg *s = seg_of(gb, vaddr);

	if (!s)
		return NULL;
	*avail = s->filesz - (vaddr - s->vaddr);
	return gb->map + s->off + (vaddr - s->vaddr);
}

static int reloc_cmp(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	return x->where < y->where ? -1 : x->where > y->where;
}

static bool reloc_value(const struct gobin *gb, uint64_t vaddr, uint64_t *v)
{
	size_t lo = 0, hi = gb->nrelocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (gb->relocs[mid].where < vaddr) {
			lo = mid + 1;
		} else if (gb->relocs[mid].where > vaddr) {
			hi = mid;
		} else {
			*v = gb->relocs[mid].value;
			return true;
		}
	}
	return false;
}

/*
 * A pointer stored in the file at vaddr, as linked. In PIE binaries the
 * file may hold 0 there and the value lives in a RELATIVE relocation.
 */
bool gobin_read_ptr(const struct gobin *gb, uint64_t vaddr, uint64_t *out)
{
	const uint8_t *p;

	if (gb->nrelocs && reloc_value(gb, vaddr, out))
		return true;
	p = gobin__data(gb, vaddr, 8);
	if (!p)
		return false;
	*out = le64(p);
	return true;
}

/* Same, for a word already known to be mapped at p. */
uint64_t gobin_ptr_at(const struct gobin *gb, uint64_t vaddr, const uint8_t *p)
{
	uint64_t v;

	if (gb->nrelocs && reloc_value(gb, vaddr, &v))
		return v;
	return le64(p);
}

/* ELF headers */

static const char *machine_name(unsigned machine, bool is64, bool msb, char *buf, size_t len)
{
	switch (machine) {
	case EM_X86_64:
		return is64 ? "amd64 (big-endian)" : "x32";
	case EM_386:
		return "386";
	case EM_ARM:
		return "arm";
	case EM_AARCH64:
		return msb ? "arm64be" : "arm64";
	case EM_RISCV:
		return is64 ? "riscv64" : "riscv32";
	case EM_PPC64:
		return msb ? "ppc64" : "ppc64le";
	case EM_PPC:
		return "ppc";
	case EM_S390:
		return is64 ? "s390x" : "s390";
	case EM_MIPS:
		if (is64)
			return msb ? "mips64" : "mips64le";
		return msb ? "mips" : "mipsle";
	case EM_SPARCV9:
		return "sparc64";
	case 258: /* EM_LOONGARCH, absent from older <elf.h> */
		return "loong64";
	default:
		snprintf(buf, len, "ELF machine %u", machine);
		return buf;
	}
}

static int corrupt(const struct gobin *gb, const char *what)
{
	lp_seterr("%s: truncated or corrupted ELF file (%s)", gb->path, what);
	return -EINVAL;
}

int gobin_pcln_corrupt(const struct gobin *gb, const char *what, const char *where)
{
	if (where)
		lp_seterr("%s: truncated or corrupted Go function table (%s in %s)", gb->path, what,
			  where);
	else
		lp_seterr("%s: truncated or corrupted Go function table (%s)", gb->path, what);
	return -EINVAL;
}

static const char *section_name(const struct gobin *gb, const Elf64_Shdr *sh)
{
	if (!gb->shstr || sh->sh_name >= gb->shstr_size)
		return "";
	if (!memchr(gb->shstr + sh->sh_name, '\0', gb->shstr_size - sh->sh_name))
		return "";
	return gb->shstr + sh->sh_name;
}

int gobin_parse_elf(struct gobin *gb)
{
	const uint8_t *m = gb->map;
	Elf64_Ehdr eh;
	bool is64, msb;
	unsigned machine;
	char mbuf[32];

	if (gb->size < SELFMAG || memcmp(m, ELFMAG, SELFMAG) != 0) {
		lp_seterr("%s: not an ELF file", gb->path);
		return -ENOEXEC;
	}
	/* e_machine sits at the same offset in 32- and 64-bit headers */
	if (gb->size < 20)
		return corrupt(gb, "ELF header past end of file");
	is64 = m[EI_CLASS] == ELFCLASS64;
	msb = m[EI_DATA] == ELFDATA2MSB;
	machine = msb ? (unsigned)(m[18] << 8 | m[19]) : le16(m + 18);
	if (machine != EM_X86_64 || !is64 || msb) {
		lp_seterr("%s: built for %s; luprobe traces amd64 binaries only", gb->path,
			  machine_name(machine, is64, msb, mbuf, sizeof(mbuf)));
		return -ENOEXEC;
	}
	if (gb->size < sizeof(eh))
		return corrupt(gb, "ELF header past end of file");
	memcpy(&eh, m, sizeof(eh));
	gb->e_type = eh.e_type;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		lp_seterr("%s: not an executable (ELF type %u); luprobe traces Go programs",
			  gb->path, eh.e_type);
		return -ENOEXEC;
	}

	if (eh.e_shnum) {
		if (eh.e_shentsize != sizeof(Elf64_Shdr))
			return corrupt(gb, "bad section header size");
		if (!range_ok(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), gb->size))
			return corrupt(gb, "section headers past end of file");
		gb->shdrs = malloc(eh.e_shnum * sizeof(Elf64_Shdr));
		if (!gb->shdrs)
			return -ENOMEM;
		memcpy(gb->shdrs, m + eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr));
		gb->nshdrs = eh.e_shnum;
		if (eh.e_shstrndx != SHN_UNDEF) {
			const Elf64_Shdr *ss;

			if (eh.e_shstrndx >= gb->nshdrs)
				return corrupt(gb, "bad section name table index");
			ss = &gb->shdrs[eh.e_shstrndx];
			if (ss->sh_type == SHT_NOBITS ||
			    !range_ok(ss->sh_offset, ss->sh_size, gb->size))
				return corrupt(gb, "section names past end of file");
			gb->shstr = (const char *)m + ss->sh_offset;
			gb->shstr_size = ss->sh_size;
		}
		for (size_t i = 0; i < gb->nshdrs; i++) {
			const Elf64_Shdr *sh = &gb->shdrs[i];
			char what[128];

			if (sh->sh_type == SHT_NOBITS ||
			    range_ok(sh->sh_offset, sh->sh_size, gb->size))
				continue;
			snprintf(what, sizeof(what), "section %.64s past end of file",
				 section_name(gb, sh)[0] ? section_name(gb, sh) : "without a name");
			return corrupt(gb, what);
		}
	}

	if (!eh.e_phnum)
		return corrupt(gb, "no program headers");
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return corrupt(gb, "bad program header size");
	if (!range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), gb->size))
		return corrupt(gb, "program headers past end of file");
	gb->segs = calloc(eh.e_phnum, sizeof(*gb->segs));
	if (!gb->segs)
		return -ENOMEM;
	gb->info.static_link = true;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, m + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP)
			gb->info.static_link = false;
		if (ph.p_type == PT_TLS) {
			gb->has_tls = true;
			gb->tls_memsz = ph.p_memsz;
			gb->tls_align = ph.p_align;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (!range_ok(ph.p_offset, ph.p_filesz, gb->size))
			return corrupt(gb, "program segment past end of file");
		if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return corrupt(gb, "program segment wraps around");
		gb->segs[gb->nsegs++] = (struct seg){
			ph.p_vaddr, ph.p_memsz, ph.p_offset,
			ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz, ph.p_flags};
	}
	if (!gb->nsegs)
		return corrupt(gb, "no loadable segments");
	gb->info.pie = eh.e_type == ET_DYN;
	gb->info.arch = "amd64";
	return 0;
}

bool gobin__section(const struct gobin *gb, size_t i, struct gobin_section *out)
{
	const Elf64_Shdr *sh;

	if (!gb || i >= gb->nshdrs)
		return false;
	sh = &gb->shdrs[i];
	memset(out, 0, sizeof(*out));
	out->name = section_name(gb, sh);
	out->type = sh->sh_type;
	out->flags = sh->sh_flags;
	out->addr = sh->sh_addr;
	out->size = sh->sh_size;
	out->entsize = sh->sh_entsize;
	if (sh->sh_type != SHT_NOBITS && range_ok(sh->sh_offset, sh->sh_size, gb->size))
		out->data = gb->map + sh->sh_offset;
	return true;
}

const Elf64_Shdr *gobin_find_section(const struct gobin *gb, const char *name)
{
	for (size_t i = 0; i < gb->nshdrs; i++) {
		if (strcmp(section_name(gb, &gb->shdrs[i]), name) == 0)
			return &gb->shdrs[i];
	}
	return NULL;
}

static int add_reloc(struct gobin *gb, size_t *cap, uint64_t where, uint64_t value)
{
	if (gb->nrelocs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct reloc *r = realloc(gb->relocs, ncap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		gb->relocs = r;
		*cap = ncap;
	}
	gb->relocs[gb->nrelocs++] = (struct reloc){where, value};
	return 0;
}

/*
 * The dynamic RELA table, found through PT_DYNAMIC so that binaries without
 * section headers work too. Only relocations that store a link-time address
 * (RELATIVE, and 64-bit absolute against no symbol) matter here: they are
 * the pointers the file leaves blank in PIE builds. RELR-packed relocations
 * keep the address in the file and need nothing.
 */
int gobin_load_relocs(struct gobin *gb)
{
	const uint8_t *m = gb->map;
	Elf64_Ehdr eh;
	uint64_t rela = 0, relasz = 0, relaent = sizeof(Elf64_Rela);
	bool have = false;
	size_t cap = 0;
	const uint8_t *p;
	uint64_t off;
	int err;

	memcpy(&eh, m, sizeof(eh));
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, m + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_DYNAMIC)
			continue;
		if (!range_ok(ph.p_offset, ph.p_filesz, gb->size))
			return corrupt(gb, "dynamic segment past end of file");
		for (uint64_t o = 0; o + 16 <= ph.p_filesz; o += 16) {
			uint64_t tag = le64(m + ph.p_offset + o),
				 val = le64(m + ph.p_offset + o + 8);

			if (tag == DT_NULL)
				break;
			if (tag == DT_RELA) {
				rela = val;
				have = true;
			} else if (tag == DT_RELASZ) {
				relasz = val;
			} else if (tag == DT_RELAENT) {
				relaent = val;
			}
		}
	}
	if (!have || !relasz)
		return 0;
	if (relaent != sizeof(Elf64_Rela) || gobin__vaddr_to_offset(gb, rela, &off) ||
	    !range_ok(off, relasz, gb->size))
		return corrupt(gb, "bad dynamic relocation table");
	p = m + off;
	for (uint64_t o = 0; o + sizeof(Elf64_Rela) <= relasz; o += sizeof(Elf64_Rela)) {
		uint64_t where = le64(p + o), info = le64(p + o + 8), addend = le64(p + o + 16);
		uint32_t type = ELF64_R_TYPE(info);

		if (type == R_X86_64_RELATIVE || (type == R_X86_64_64 && ELF64_R_SYM(info) == 0)) {
			err = add_reloc(gb, &cap, where, addend);
			if (err)
				return err;
		}
	}
	if (gb->nrelocs)
		qsort(gb->relocs, gb->nrelocs, sizeof(*gb->relocs), reloc_cmp);
	return 0;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int gobin_load_symtab(struct gobin *gb)
{
	const Elf64_Shdr *st = NULL, *str;
	const char *strtab;
	size_t n;

	for (size_t i = 0; i < gb->nshdrs; i++) {
		if (gb->shdrs[i].sh_type == SHT_SYMTAB) {
			st = &gb->shdrs[i];
			break;
		}
	}
	if (!st)
		return 0;
	gb->info.has_symtab = true;
	if (st->sh_link >= gb->nshdrs || gb->shdrs[st->sh_link].sh_type != SHT_STRTAB)
		return corrupt(gb, "bad .symtab string table");
	str = &gb->shdrs[st->sh_link];
	strtab = (const char *)gb->map + str->sh_offset;
	n = st->sh_size / sizeof(Elf64_Sym);
	gb->syms = calloc(n ? n : 1, sizeof(*gb->syms));
	if (!gb->syms)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++) {
		Elf64_Sym s;

		memcpy(&s, gb->map + st->sh_offset + i * sizeof(s), sizeof(s));
		if (!s.st_name || s.st_shndx == SHN_UNDEF || s.st_name >= str->sh_size)
			continue;
		if (!memchr(strtab + s.st_name, '\0', str->sh_size - s.st_name))
			continue;
		gb->syms[gb->nsyms++] = (struct sym){strtab + s.st_name, s.st_value, s.st_size,
						     ELF64_ST_TYPE(s.st_info)};
	}
	if (gb->nsyms)
		qsort(gb->syms, gb->nsyms, sizeof(*gb->syms), sym_cmp);
	return 0;
}

/* First .symtab entry named name, or NULL; equal names follow it. */
const struct sym *gobin_sym_lookup(const struct gobin *gb, const char *name)
{
	size_t lo = 0, hi = gb->nsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(gb->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < gb->nsyms && strcmp(gb->syms[lo].name, name) == 0)
		return &gb->syms[lo];
	return NULL;
}

int gobin__symbol(const struct gobin *gb, const char *name, uint64_t *addr, uint64_t *size)
{
	const struct sym *s = gb && name ? gobin_sym_lookup(gb, name) : NULL;

	if (!s)
		return -ENOENT;
	if (addr)
		*addr = s->addr;
	if (size)
		*size = s->size;
	return 0;
}

int gobin__tls(const struct gobin *gb, uint64_t *memsz, uint64_t *align)
{
	if (!gb || !gb->has_tls)
		return -ENOENT;
	if (memsz)
		*memsz = gb->tls_memsz;
	if (align)
		*align = gb->tls_align;
	return 0;
}
