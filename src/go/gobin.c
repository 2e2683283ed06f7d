// SPDX-License-Identifier: BSD-2-Clause
/*
 * Go binary inspector: ELF layout, Go version and build settings, the
 * function table from the pclntab, .symtab, module data and type names.
 *
 * The file is mapped read-only and every read goes through a bounds check
 * against the file or against the table it belongs to: no length or offset
 * read from the file is trusted, and no loop runs longer than the bytes it
 * walks. Tables whose layout changed between Go releases are described by
 * small per-release tables below rather than by C structs.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gobin.h"
#include "log.h"

#define BUILDINFO_MAGIC	    "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HDR	    32

/* runtime constants that have kept their values since Go 1.12 */
#define ARGS_SIZE_UNKNOWN ((int32_t)0x80000000)
#define FUNCDATA_ARGINFO  5
#define FUNCFLAG_ASM	  0x4 /* Go 1.18 and later */
#define TFLAG_EXTRA_STAR  0x2
#define KIND_MASK	  0x1f
#define TYPE_HDR	  48 /* runtime._type / abi.Type on 64-bit targets */

/*
 * printArgs encoding (runtime/traceback.go): bytes 0xfb-0xff are one-byte
 * tokens (offset too large, "...", end/start of aggregate, end of
 * sequence); anything else is an (offset, size) pair.
 */
#define ARGS_END_SEQ	 0xff
#define ARGS_FIRST_TOKEN 0xfb
#define ARGINFO_MAX	 256 /* the runtime's own limit is 171 bytes */

/* .symtab must name this many functions before a disagreement can fail open. */
#define SYMTAB_MISMATCH_MIN 16

struct seg {
	uint64_t vaddr, memsz, off, filesz;
	uint32_t flags;
};

/* A pointer-sized word the dynamic loader fills in (R_X86_64_RELATIVE). */
struct reloc {
	uint64_t where, value;
};

struct sym {
	const char *name;
	uint64_t addr, size;
	uint8_t type;
};

/*
 * Field offsets inside a _func record for one range of Go releases; -1 when
 * the field does not exist there. Entry is a pointer before Go 1.18 and a
 * 32-bit offset from textStart since.
 */
struct func_layout {
	int hdr;
	bool entry_is_ptr;
	int nameoff, args, pcfile, pcln, npcdata, cuoff, funcid, flag, nfuncdata, pcdata;
};

static const struct func_layout func_12 = {40, true, 8, 12, 24, 28, 32, -1, 36, -1, 39, 40};
static const struct func_layout func_116 = {44, true, 8, 12, 24, 28, 32, 36, 40, 41, 43, 44};
static const struct func_layout func_118 = {40, false, 4, 8, 20, 24, 28, 32, 36, 37, 39, 40};
/* Go 1.20 inserted startLine before funcID, along with the new magic. */
static const struct func_layout func_120 = {44, false, 4, 8, 20, 24, 28, 32, 40, 41, 43, 44};

/*
 * runtime.moduledata field offsets (64-bit) per release, from each release's
 * runtime/symtab.go. Only the fields luprobe reads are listed.
 */
struct md_layout {
	int minor; /* first Go minor release with this layout */
	int text, types, etypes, gofunc, epclntab, typelinks, itaboff, itabsize;
};

static const struct md_layout md_layouts[] = {
	{2, 96, 200, 208, -1, -1, 240, -1, -1},	     /* pclntable/ftab/filetab slices */
	{16, 176, 280, 288, -1, -1, 320, -1, -1},    /* pcHeader and split tables */
	{18, 176, 280, 288, 304, -1, 336, -1, -1},   /* + rodata, gofunc */
	{20, 176, 296, 304, 320, -1, 352, -1, -1},   /* + covctrs */
	{26, 176, 296, 304, 320, 328, 360, -1, -1},  /* + epclntab */
	{27, 176, 296, 312, 344, 352, -1, 320, 328}, /* typedesclen, itabs; no typelinks */
};

struct pcln {
	uint64_t addr;	  /* virtual address of the header */
	const uint8_t *p; /* the header in the mapping */
	uint64_t size;	  /* bytes readable from the header on */
	enum gobin_pcln fmt;
	uint64_t nfunc, text;
	/* [lo, hi) of each table, as offsets from the header */
	uint64_t name_lo, name_hi, cu_lo, cu_hi, file_lo, file_hi, pc_lo, pc_hi;
	uint64_t ftab;	/* functab */
	uint64_t fbase; /* _func offsets are relative to this */
	uint64_t nfiles;
	const struct func_layout *fl;
};

struct tname {
	uint64_t addr;
	char *name;
};

struct gobin {
	char *path;
	const uint8_t *map;
	size_t size;
	bool mapped; /* map is our mmap of the file, not the caller's buffer */
	struct gobin_info info;
	uint16_t e_type;

	Elf64_Shdr *shdrs;
	size_t nshdrs;
	const char *shstr;
	size_t shstr_size;
	struct seg *segs;
	size_t nsegs;
	bool has_tls;
	uint64_t tls_memsz, tls_align;

	struct reloc *relocs;
	size_t nrelocs;
	struct sym *syms; /* sorted by name */
	size_t nsyms;

	struct pcln pc;
	int minor; /* Go minor release that decides struct layouts */
	struct gobin_func *funcs;
	uint32_t *foff; /* each function's _func, relative to pc.fbase */
	uint32_t *nlen; /* length of each function's name */
	uint32_t *htab; /* name hash: function index + 1, 0 = empty */
	uint32_t *hval; /* hash of the name in each slot */
	size_t hmask;

	int md_state; /* 0 not searched, 1 found, -1 absent */
	uint64_t md_addr;
	const struct md_layout *md;
	uint64_t types, etypes, gofunc;

	struct tname *tnames; /* open-addressing cache of resolved type names */
	size_t tn_count, tn_mask;
};

/* Little-endian readers; callers have bounds-checked p. */
static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Decode an unsigned LEB128 varint of at most 10 bytes; bytes used, 0 if malformed. */
static size_t uvarint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < 10 && p + i < end; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

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

static bool in_exec(const struct gobin *gb, uint64_t vaddr)
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
static const uint8_t *data_avail(const struct gobin *gb, uint64_t vaddr, uint64_t *avail)
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
static bool read_ptr(const struct gobin *gb, uint64_t vaddr, uint64_t *out)
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
static uint64_t ptr_at(const struct gobin *gb, uint64_t vaddr, const uint8_t *p)
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

static int pcln_corrupt(const struct gobin *gb, const char *what, const char *where)
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

static int parse_elf(struct gobin *gb)
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

static const Elf64_Shdr *find_section(const struct gobin *gb, const char *name)
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
static int load_relocs(struct gobin *gb)
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

static int load_symtab(struct gobin *gb)
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
static const struct sym *sym_lookup(const struct gobin *gb, const char *name)
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
	const struct sym *s = gb && name ? sym_lookup(gb, name) : NULL;

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

/* Go version and build information */

/*
 * Parse "go1.N[.M]" (optionally "go1.N[.M]rcK" or "betaK") at s; returns the
 * length of the well-formed version, 0 if s does not start with one.
 */
static size_t parse_version(const char *s, size_t len, int *minor, int *patch)
{
	size_t i = 4, start;
	long v;

	if (len < 5 || memcmp(s, "go1.", 4) != 0 || s[4] < '0' || s[4] > '9')
		return 0;
	for (v = 0; i < len && s[i] >= '0' && s[i] <= '9' && i < 8; i++)
		v = v * 10 + (s[i] - '0');
	*minor = (int)v;
	*patch = 0;
	if (i + 1 < len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
		for (v = 0, i++; i < len && s[i] >= '0' && s[i] <= '9' && i < 16; i++)
			v = v * 10 + (s[i] - '0');
		*patch = (int)v;
	}
	start = i;
	if (i + 2 < len && memcmp(s + i, "rc", 2) == 0)
		i += 2;
	else if (i + 4 < len && memcmp(s + i, "beta", 4) == 0)
		i += 4;
	if (i > start && i < len && s[i] >= '0' && s[i] <= '9') {
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		return i;
	}
	return start;
}

static void set_version(struct gobin *gb, const char *s, size_t len)
{
	const char *g = memmem(s, len, "go1.", 4);
	int minor, patch;
	size_t n;

	if (!g)
		return;
	n = parse_version(g, len - (size_t)(g - s), &minor, &patch);
	if (!n || n >= sizeof(gb->info.go_version))
		return;
	memcpy(gb->info.go_version, g, n);
	gb->info.go_version[n] = '\0';
	gb->info.go_major = 1;
	gb->info.go_minor = minor;
	gb->info.go_patch = patch;
}

/* A Go string header {data, len} at vaddr, through relocations. */
static const uint8_t *read_gostring(const struct gobin *gb, uint64_t vaddr, uint64_t *len)
{
	uint64_t data, n;

	if (!read_ptr(gb, vaddr, &data) || !read_ptr(gb, vaddr + 8, &n) || n > (1 << 24))
		return NULL;
	*len = n;
	return gobin__data(gb, data, n);
}

static void parse_modinfo(struct gobin *gb, const uint8_t *s, uint64_t len)
{
	const char *line, *end;

	/* modinfo is framed by two 16-byte sentinels around newline-ended text */
	if (len < 33 || s[len - 17] != '\n')
		return;
	gb->info.build_settings = strndup((const char *)s + 16, len - 32);
	if (!gb->info.build_settings)
		return;
	for (line = gb->info.build_settings; *line; line = end + (*end != '\0')) {
		const char *f;

		end = strchrnul(line, '\n');
		if (!gb->info.mod_path && (size_t)(end - line) > 4 &&
		    memcmp(line, "mod\t", 4) == 0) {
			f = memchr(line + 4, '\t', (size_t)(end - line - 4));
			gb->info.mod_path = strndup(line + 4, (size_t)((f ? f : end) - line - 4));
		}
		if ((size_t)(end - line) == 19 && memcmp(line, "build\tCGO_ENABLED=1", 19) == 0)
			gb->info.cgo = true;
	}
}

static bool parse_buildinfo(struct gobin *gb, uint64_t vaddr)
{
	uint64_t avail, vlen, mlen;
	const uint8_t *h = data_avail(gb, vaddr, &avail), *v, *mi;

	if (!h || avail < BUILDINFO_HDR || memcmp(h, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) != 0)
		return false;
	if (h[15] & 2) {
		/* Go 1.18+: two varint-prefixed strings inline after the header */
		const uint8_t *p = h + BUILDINFO_HDR, *end = h + avail;
		size_t n = uvarint(p, end, &vlen);

		if (!n || vlen > (uint64_t)(end - p - n))
			return false;
		v = p + n;
		p = v + vlen;
		n = uvarint(p, end, &mlen);
		if (!n || mlen > (uint64_t)(end - p - n))
			return false;
		mi = p + n;
	} else {
		uint64_t pv, pm;

		/* before 1.18: pointers to Go string headers; amd64 is 8-byte little-endian */
		if (h[14] != 8 || h[15] != 0)
			return false;
		if (!read_ptr(gb, vaddr + 16, &pv) || !read_ptr(gb, vaddr + 24, &pm))
			return false;
		v = read_gostring(gb, pv, &vlen);
		if (!v)
			return false;
		mi = read_gostring(gb, pm, &mlen);
		if (!mi)
			mlen = 0;
	}
	set_version(gb, (const char *)v, vlen);
	if (!gb->info.go_version[0])
		return false;
	gb->info.version_from_buildinfo = true;
	gb->info.has_buildinfo = true;
	if (mi)
		parse_modinfo(gb, mi, mlen);
	return true;
}

static void find_buildinfo(struct gobin *gb)
{
	const Elf64_Shdr *sh = find_section(gb, ".go.buildinfo");

	if (sh && parse_buildinfo(gb, sh->sh_addr))
		return;
	/* by its 16-byte-aligned magic in writable data */
	for (size_t i = 0; i < gb->nsegs; i++) {
		const struct seg *s = &gb->segs[i];
		uint64_t a = (s->vaddr + 15) & ~15ULL;

		if (!(s->flags & PF_W) || (s->flags & PF_X))
			continue;
		for (; a - s->vaddr + BUILDINFO_HDR <= s->filesz; a += 16) {
			const uint8_t *p = gb->map + s->off + (a - s->vaddr);

			if (p[0] == 0xff && memcmp(p, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) == 0 &&
			    parse_buildinfo(gb, a))
				return;
		}
	}
}

struct vcand {
	uint64_t addr;
	int len, minor, patch;
	bool whole;
};

#define MAX_VCANDS 512

static int vcand_cmp(const void *a, const void *b)
{
	const struct vcand *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool better_version(const struct vcand *a, const struct vcand *b)
{
	if (a->len != b->len)
		return a->len > b->len;
	if (a->minor != b->minor)
		return a->minor > b->minor;
	return a->patch > b->patch;
}

/*
 * Without buildinfo the version is runtime.buildVersion, a Go string in
 * read-only data. Go strings are not terminated, so "go1.13.8" may run into
 * the next string: a candidate counts as whole when a string header in
 * writable data points at it with its exact length. Failing that, a match
 * bounded by non-version characters on both sides is accepted.
 */
static void find_version_string(struct gobin *gb)
{
	struct vcand c[MAX_VCANDS], best = {0};
	size_t nc = 0;
	bool found = false;

	for (size_t i = 0; i < gb->nsegs && nc < MAX_VCANDS; i++) {
		const struct seg *s = &gb->segs[i];
		const uint8_t *base = gb->map + s->off, *p = base, *end = base + s->filesz;

		if (s->flags & (PF_W | PF_X))
			continue;
		while (nc < MAX_VCANDS && (p = memmem(p, (size_t)(end - p), "go1.", 4)) != NULL) {
			int minor, patch;
			size_t n =
				parse_version((const char *)p, (size_t)(end - p), &minor, &patch);
			bool before =
				p > base && (p[-1] == '.' || p[-1] == '/' || p[-1] == '_' ||
					     (p[-1] >= '0' && p[-1] <= '9') ||
					     ((p[-1] | 0x20) >= 'a' && (p[-1] | 0x20) <= 'z'));
			uint8_t after = p + n < end ? p[n] : 0;

			if (n && !before) {
				c[nc] = (struct vcand){s->vaddr + (uint64_t)(p - base), (int)n,
						       minor, patch, false};
				c[nc].whole = after != '.' && after != '-' && after != '_' &&
					      !(after >= '0' && after <= '9');
				nc++;
			}
			p += 4;
		}
	}
	if (!nc)
		return;
	qsort(c, nc, sizeof(c[0]), vcand_cmp);
	/* a {ptr, len} header in writable data confirms a whole string */
	for (size_t i = 0; i < gb->nsegs; i++) {
		const struct seg *s = &gb->segs[i];

		if (!(s->flags & PF_W))
			continue;
		for (uint64_t o = (8 - (s->vaddr & 7)) & 7; o + 16 <= s->filesz; o += 8) {
			const uint8_t *p = gb->map + s->off + o;
			uint64_t ptr = ptr_at(gb, s->vaddr + o, p), len = le64(p + 8);

			size_t lo = 0, hi = nc;

			if (len < 5 || len > 16)
				continue;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (c[mid].addr < ptr)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (size_t k = lo; k < nc && c[k].addr == ptr; k++) {
				struct vcand v = c[k];
				int mi, pa;

				if (len > (uint64_t)v.len)
					continue;
				if (len < (uint64_t)v.len) {
					/* a shorter prefix must itself be well formed */
					const uint8_t *q = gobin__data(gb, v.addr, len);

					if (!q ||
					    parse_version((const char *)q, len, &mi, &pa) != len)
						continue;
					v.len = (int)len;
					v.minor = mi;
					v.patch = pa;
				}
				if (!found || better_version(&v, &best))
					best = v;
				found = true;
			}
		}
	}
	if (!found) {
		for (size_t k = 0; k < nc; k++) {
			if (c[k].whole && (!found || better_version(&c[k], &best))) {
				best = c[k];
				found = true;
			}
		}
	}
	if (found) {
		const uint8_t *q = gobin__data(gb, best.addr, (size_t)best.len);

		if (q)
			set_version(gb, (const char *)q, (size_t)best.len);
	}
}

/* pclntab */

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

static uint64_t ftab_entry(const struct gobin *gb, const struct pcln *pc, uint64_t i)
{
	if (pc->fmt == GOBIN_PCLN_12 || pc->fmt == GOBIN_PCLN_116) {
		uint64_t o = pc->ftab + i * 16;

		return ptr_at(gb, pc->addr + o, pc->p + o);
	}
	return pc->text + le32(pc->p + pc->ftab + i * 8);
}

static uint64_t ftab_funcoff(const struct pcln *pc, uint64_t i)
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
	uint64_t prev = 0, last = ftab_entry(gb, pc, pc->nfunc);

	*why = "functions outside executable code";
	if (!in_exec(gb, ftab_entry(gb, pc, 0)) || !in_exec(gb, last - (last > 0)))
		return false;
	for (uint64_t i = 0; i < pc->nfunc; i++) {
		uint64_t e = ftab_entry(gb, pc, i), fo = ftab_funcoff(pc, i), fe;
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
		fe = pc->fl->entry_is_ptr ? ptr_at(gb, pc->addr + pc->fbase + fo, f)
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

	if (!read_ptr(gb, x, &v) || v != pc->addr)
		return false;
	if (pc->fmt == GOBIN_PCLN_12)
		return read_ptr(gb, x + 24, &v) && v == pc->addr + pc->ftab;
	if (!read_ptr(gb, x + 8, &v) || v != pc->addr + pc->name_lo)
		return false;
	if (!read_ptr(gb, x + 32, &v) || v != pc->addr + pc->cu_lo)
		return false;
	return read_ptr(gb, x + 128, &v) && v == pc->addr + pc->ftab;
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
	if (read_ptr(gb, x + md_layouts[5].epclntab, &v) && v > gb->pc.addr && v <= end)
		return &md_layouts[5];
	if (read_ptr(gb, x + md_layouts[4].epclntab, &v) && v > gb->pc.addr && v <= end)
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

static bool md_find(struct gobin *gb)
{
	const Elf64_Shdr *sh;
	uint64_t v;

	if (gb->md_state)
		return gb->md_state > 0;
	gb->md_state = -1;
	sh = find_section(gb, ".go.module");
	if (sh && md_check(gb, sh->sh_addr))
		gb->md_addr = sh->sh_addr;
	else if (!gb->pc.p || (!md_scan(gb, true) && !md_scan(gb, false)))
		return false;
	gb->md = md_pick(gb, gb->md_addr);
	if (!read_ptr(gb, gb->md_addr + gb->md->types, &gb->types) ||
	    !read_ptr(gb, gb->md_addr + gb->md->etypes, &gb->etypes) || gb->types > gb->etypes)
		return false;
	if (gb->md->gofunc >= 0 && read_ptr(gb, gb->md_addr + gb->md->gofunc, &v))
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

	read_ptr(gb, gb->pc.addr + 24, &t);
	if (!t && md_find(gb))
		read_ptr(gb, gb->md_addr + gb->md->text, &t);
	if (!t)
		gobin__symbol(gb, "runtime.text", &t, NULL);
	return t;
}

/*
 * runtime.text from the module data and .symtab, where they exist, must
 * agree with the base the function table was read with.
 */
static int check_text(struct gobin *gb)
{
	uint64_t md_text = 0, sym_text = 0;

	if (gb->md_state > 0)
		read_ptr(gb, gb->md_addr + gb->md->text, &md_text);
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

static int find_pcln(struct gobin *gb)
{
	static const char *const names[] = {".gopclntab", ".data.rel.ro.gopclntab"};
	size_t tried = 0;
	const char *why;

	for (size_t i = 0; i < 2; i++) {
		const Elf64_Shdr *sh = find_section(gb, names[i]);
		uint64_t avail;
		const uint8_t *p;

		if (!sh || sh->sh_type == SHT_NOBITS)
			continue;
		p = data_avail(gb, sh->sh_addr, &avail);
		if (avail > sh->sh_size)
			avail = sh->sh_size;
		if (p && pcln_try(gb, sh->sh_addr, p, avail, &why))
			return 0;
		memset(&gb->pc, 0, sizeof(gb->pc));
		return pcln_corrupt(gb, p ? why : "outside the loaded segments", names[i]);
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

static int load_funcs(struct gobin *gb)
{
	struct pcln *t = &gb->pc;
	uint64_t n = t->nfunc;

	if (n > UINT32_MAX / 2)
		return pcln_corrupt(gb, "too many functions", NULL);
	gb->funcs = calloc(n, sizeof(*gb->funcs));
	gb->foff = calloc(n, sizeof(*gb->foff));
	gb->nlen = calloc(n, sizeof(*gb->nlen));
	if (!gb->funcs || !gb->foff || !gb->nlen)
		return -ENOMEM;
	gb->info.nfuncs = n;
	for (uint64_t i = 0; i < n; i++) {
		struct gobin_func *f = &gb->funcs[i];
		uint64_t fo = ftab_funcoff(t, i), nlo, nhi;
		const uint8_t *r, *nul;
		int32_t nameoff;

		if (fo > UINT32_MAX)
			return pcln_corrupt(gb, "function record offset too large", NULL);
		gb->foff[i] = (uint32_t)fo;
		f->index = (uint32_t)i;
		f->entry = ftab_entry(gb, t, i);
		f->end = ftab_entry(gb, t, i + 1);
		r = t->p + t->fbase + fo;
		nameoff = (int32_t)le32(r + t->fl->nameoff);
		nlo = t->name_lo;
		nhi = t->name_hi;
		if (nameoff < 0 || (uint64_t)nameoff >= nhi - nlo)
			return pcln_corrupt(gb, "function name outside the name table", NULL);
		f->name = (const char *)t->p + nlo + nameoff;
		nul = memchr(f->name, '\0', nhi - nlo - (uint64_t)nameoff);
		if (!nul || nul - (const uint8_t *)f->name > UINT32_MAX)
			return pcln_corrupt(gb, "function name outside the name table", NULL);
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
		*raw = ptr_at(gb, gb->pc.addr + o, gb->pc.p + o);
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
static void fill_func_flags(struct gobin *gb)
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

static int build_index(struct gobin *gb)
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
		for (s = sym_lookup(gb, name);
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
static int cross_check(struct gobin *gb)
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

/* Open and free */

static int map_file(struct gobin *gb, const char *path)
{
	struct stat st;
	int fd, err;
	void *m;

	/* O_NONBLOCK: opening a FIFO would wait for a writer; fstat refuses it below */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT || err == -ENOTDIR)
			lp_seterr("%s: no such file", path);
		else if (err == -EACCES || err == -EPERM)
			lp_seterr("%s: permission denied", path);
		else
			lp_seterr("%s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		lp_seterr("%s: %s", path, strerror(-err));
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		lp_seterr("%s: is a directory", path);
		err = -EISDIR;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		lp_seterr("%s: not a regular file (%s)", path, lp_filekind(st.st_mode));
		err = -EINVAL;
		goto cleanup;
	}
	if (st.st_size < SELFMAG) {
		lp_seterr("%s: not an ELF file", path);
		err = -ENOEXEC;
		goto cleanup;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		lp_seterr("%s: cannot map the file: %s", path, strerror(-err));
		goto cleanup;
	}
	gb->map = m;
	gb->size = (size_t)st.st_size;
	gb->mapped = true;
	err = 0;
cleanup:
	close(fd);
	return err;
}

static void set_go_facts(struct gobin *gb)
{
	struct gobin_info *in = &gb->info;
	static const int lowest[] = {[GOBIN_PCLN_12] = 2,
				     [GOBIN_PCLN_116] = 16,
				     [GOBIN_PCLN_118] = 18,
				     [GOBIN_PCLN_120] = 20};
	int lo = lowest[gb->pc.fmt];

	/* a version string that contradicts the table format was something else */
	if (in->go_minor && !in->version_from_buildinfo &&
	    (in->go_minor < lo || (gb->pc.fmt == GOBIN_PCLN_12 && in->go_minor >= 16) ||
	     (gb->pc.fmt == GOBIN_PCLN_116 && in->go_minor >= 18) ||
	     (gb->pc.fmt == GOBIN_PCLN_118 && in->go_minor >= 20))) {
		pr_debug("gobin: %s: ignoring version %s, the pclntab format says otherwise\n",
			 gb->path, in->go_version);
		in->go_version[0] = '\0';
		in->go_major = in->go_minor = in->go_patch = 0;
	}
	if (!in->go_minor) {
		in->go_major = 1;
		in->go_minor = lo;
	}
	gb->minor = in->go_minor;
	in->pcln = gb->pc.fmt;
	in->regabi = in->go_minor >= 17;
	in->text_start = gb->pc.text;
	in->pclntab_addr = gb->pc.addr;
}

static void detect_cgo(struct gobin *gb)
{
	/* x_cgo_init is C code from runtime/cgo; the Go side's _cgo_init exists in every build */
	if (!gb->info.cgo && !gobin__symbol(gb, "x_cgo_init", NULL, NULL))
		gb->info.cgo = true;
	/* assembly entry points of runtime/cgo, in the pclntab of every cgo build */
	if (gobin__find_func(gb, "crosscall2") || gobin__find_func(gb, "_cgo_topofstack"))
		gb->info.cgo = true;
}

/* Everything after the bytes are in place; gb->map and gb->size are set. */
static int inspect(struct gobin *gb)
{
	int err;

	err = parse_elf(gb);
	if (err)
		return err;
	err = load_relocs(gb);
	if (err)
		return err;
	err = load_symtab(gb);
	if (err)
		return err;
	gb->info.has_dwarf = find_section(gb, ".debug_info") || find_section(gb, ".zdebug_info");

	find_buildinfo(gb);
	if (!gb->info.go_version[0])
		find_version_string(gb);

	err = find_pcln(gb);
	if (err)
		return err;
	/* types and funcdata need it; a binary without it still traces */
	md_find(gb);
	err = check_text(gb);
	if (err)
		return err;
	err = load_funcs(gb);
	if (err)
		return err;
	set_go_facts(gb);
	fill_func_flags(gb);
	err = cross_check(gb);
	if (err)
		return err;
	err = build_index(gb);
	if (err)
		return err;
	detect_cgo(gb);
	pr_debug("gobin: %s: %s, pclntab %d at %#lx, %zu functions, text %#lx\n", gb->path,
		 gb->info.go_version[0] ? gb->info.go_version : "unknown Go version", gb->pc.fmt,
		 (unsigned long)gb->pc.addr, gb->info.nfuncs, (unsigned long)gb->pc.text);
	return 0;
}

/* Open with the bytes from the file at path (mapped) or from buf (borrowed). */
static int open_common(const char *path, const void *buf, size_t len, struct gobin **out)
{
	struct gobin *gb;
	int err;

	*out = NULL;
	gb = calloc(1, sizeof(*gb));
	if (!gb)
		return -ENOMEM;
	gb->path = strdup(path);
	if (!gb->path) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (buf) {
		gb->map = buf;
		gb->size = len;
		if (len < SELFMAG) {
			lp_seterr("%s: not an ELF file", path);
			err = -ENOEXEC;
			goto cleanup;
		}
	} else {
		err = map_file(gb, path);
		if (err)
			goto cleanup;
	}
	err = inspect(gb);
	if (err)
		goto cleanup;
	*out = gb;
	return 0;
cleanup:
	if (err == -ENOMEM)
		lp_seterr("%s: out of memory", path);
	gobin__free(gb);
	return err;
}

int gobin__open(const char *path, struct gobin **out)
{
	return open_common(path, NULL, 0, out);
}

int gobin__open_mem(const void *buf, size_t len, const char *name, struct gobin **out)
{
	if (!buf) {
		*out = NULL;
		lp_seterr("%s: not an ELF file", name);
		return -ENOEXEC;
	}
	return open_common(name, buf, len, out);
}

void gobin__free(struct gobin *gb)
{
	if (!gb)
		return;
	for (size_t i = 0; i <= gb->tn_mask && gb->tnames; i++)
		free(gb->tnames[i].name);
	free(gb->tnames);
	free(gb->htab);
	free(gb->hval);
	free(gb->nlen);
	free(gb->foff);
	free(gb->funcs);
	free(gb->syms);
	free(gb->relocs);
	free(gb->segs);
	free(gb->shdrs);
	free(gb->info.mod_path);
	free(gb->info.build_settings);
	if (gb->mapped)
		munmap((void *)gb->map, gb->size);
	free(gb->path);
	free(gb);
}

const char *gobin__path(const struct gobin *gb)
{
	return gb ? gb->path : NULL;
}

const struct gobin_info *gobin__info(const struct gobin *gb)
{
	return gb ? &gb->info : NULL;
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

/* Globs */

/*
 * Rewrite a user pattern for fnmatch(3) with its brackets taken literally:
 * Go names contain them (instantiations "main.Map[go.shape.int]", array
 * types in "type:.eq.[2]string"), and "[...]", the runtime's way to print
 * any instantiation, matches one bracketed list. '*' and '?' stay wildcards
 * and a backslash still escapes.
 */
static char *literal_brackets(const char *pat)
{
	size_t n = strlen(pat);
	char *out = malloc(2 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (pat[i] == '\\' && i + 1 < n) {
			*o++ = pat[i++];
			*o++ = pat[i];
		} else if (strncmp(pat + i, "[...]", 5) == 0) {
			memcpy(o, "\\[*\\]", 5);
			o += 5;
			i += 4;
		} else {
			if (pat[i] == '[' || pat[i] == ']')
				*o++ = '\\';
			*o++ = pat[i];
		}
	}
	*o = '\0';
	return out;
}

/*
 * A pattern with brackets is tried both ways, as fnmatch character classes
 * ("main.[A-Z]*") and as the literal brackets of Go names: the two readings
 * rarely both match real names, so users need not escape either.
 */
size_t gobin__glob(const struct gobin *gb, const char *pattern, const struct gobin_func **out,
		   size_t max)
{
	size_t count = 0;
	char *lit = NULL;

	if (!gb || !pattern)
		return 0;
	if (!strpbrk(pattern, "*?[\\")) {
		const struct gobin_func *f = gobin__find_func(gb, pattern);

		if (f && max)
			out[0] = f;
		return f ? 1 : 0;
	}
	if (strpbrk(pattern, "[]")) {
		lit = literal_brackets(pattern);
		if (!lit)
			return 0;
	}
	for (size_t i = 0; i < gb->info.nfuncs; i++) {
		const char *name = gb->funcs[i].name;

		if (fnmatch(pattern, name, 0) != 0 && (!lit || fnmatch(lit, name, 0) != 0))
			continue;
		if (count < max)
			out[count] = &gb->funcs[i];
		count++;
	}
	free(lit);
	return count;
}

/* Suggestions */

#define LEV_MAX 256

/* Edit distance between a and b, or limit + 1 once it must exceed limit. */
static size_t levenshtein(const char *a, size_t la, const char *b, size_t lb, size_t limit)
{
	size_t row[LEV_MAX + 1];

	if (la > LEV_MAX || lb > LEV_MAX || (la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], best;

		row[0] = i;
		best = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t v = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > limit)
			return limit + 1;
	}
	return row[lb];
}

/* Length of the package path of a Go symbol: up to the first '.' after the last '/'. */
static size_t pkg_len(const char *name)
{
	const char *slash = strrchr(name, '/'), *dot;

	/* a '/' inside brackets or parentheses belongs to a type, not the path */
	for (const char *p = name; *p && (!slash || p < slash); p++) {
		if (*p == '[' || *p == '(') {
			slash = NULL;
			for (const char *q = name; q < p; q++)
				if (*q == '/')
					slash = q;
			break;
		}
	}
	dot = strchr(slash ? slash : name, '.');
	return dot ? (size_t)(dot - name) : 0;
}

struct sugg {
	const char *name;
	size_t score;
};

size_t gobin__suggest(const struct gobin *gb, const char *name, const char **out, size_t max)
{
	struct sugg best[16];
	size_t nbest = 0, len, plen, limit, cap = max < 16 ? max : 16;
	const char *local;

	if (!gb || !name || !cap)
		return 0;
	len = strlen(name);
	plen = pkg_len(name);
	local = plen ? NULL : name;
	limit = len / 4 < 1 ? 1 : len / 4;
	if (limit > 8)
		limit = 8;
	for (size_t i = 0; i < gb->info.nfuncs; i++) {
		const char *c = gb->funcs[i].name, *dot;
		size_t lc = gb->nlen[i], d, score, k;
		bool same;

		d = levenshtein(name, len, c, lc, limit);
		/* "computeE" for "main.computeE": compare with the part after the package */
		if (d > limit && local && (dot = strrchr(c, '.')) != NULL)
			d = levenshtein(name, len, dot + 1, strlen(dot + 1), limit - 1) + 1;
		if (d > limit || d == 0)
			continue;
		if (gobin__find_func(gb, c) != &gb->funcs[i])
			continue; /* a repeated name */
		same = plen && pkg_len(c) == plen && strncmp(c, name, plen) == 0;
		score = 2 * d + !same;
		for (k = nbest; k > 0 && best[k - 1].score > score; k--)
			;
		if (k >= cap)
			continue;
		if (nbest < cap)
			nbest++;
		memmove(&best[k + 1], &best[k], (nbest - 1 - k) * sizeof(best[0]));
		best[k] = (struct sugg){c, score};
	}
	for (size_t k = 0; k < nbest; k++)
		out[k] = best[k].name;
	return nbest;
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
	p = data_avail(gb, addr, &avail);
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

/* Types */

static bool type_addr_ok(struct gobin *gb, uint64_t vaddr)
{
	return gb->md_state > 0 && vaddr >= gb->types && vaddr < gb->etypes &&
	       gobin__data(gb, vaddr, TYPE_HDR);
}

int gobin__type_kind(struct gobin *gb, uint64_t type_vaddr)
{
	const uint8_t *t;

	if (!gb || !type_addr_ok(gb, type_vaddr))
		return -1;
	t = gobin__data(gb, type_vaddr, TYPE_HDR);
	return t[23] & KIND_MASK;
}

static struct tname *tname_slot(struct gobin *gb, uint64_t addr)
{
	size_t h = (size_t)((addr >> 3) * 0x9e3779b97f4a7c15ULL) & gb->tn_mask;

	while (gb->tnames[h].name && gb->tnames[h].addr != addr)
		h = (h + 1) & gb->tn_mask;
	return &gb->tnames[h];
}

static int tname_grow(struct gobin *gb)
{
	struct tname *old = gb->tnames;
	size_t omask = gb->tn_mask, size = old ? (omask + 1) * 2 : 256;

	gb->tnames = calloc(size, sizeof(*gb->tnames));
	if (!gb->tnames) {
		gb->tnames = old;
		return -ENOMEM;
	}
	gb->tn_mask = size - 1;
	for (size_t i = 0; old && i <= omask; i++)
		if (old[i].name)
			*tname_slot(gb, old[i].addr) = old[i];
	free(old);
	return 0;
}

/* The runtime name record at vaddr: a flag byte, then the length, then the bytes. */
static const char *read_name(const struct gobin *gb, uint64_t vaddr, size_t *len)
{
	uint64_t avail, n;
	const uint8_t *p = data_avail(gb, vaddr, &avail);
	size_t hdr;

	if (!p || avail < 3)
		return NULL;
	if (gb->minor >= 17) {
		hdr = uvarint(p + 1, p + avail, &n);
		if (!hdr)
			return NULL;
		hdr += 1;
	} else {
		n = (uint64_t)p[1] << 8 | p[2];
		hdr = 3;
	}
	if (n > avail - hdr)
		return NULL;
	*len = (size_t)n;
	return (const char *)p + hdr;
}

const char *gobin__type_name(struct gobin *gb, uint64_t type_vaddr)
{
	const uint8_t *t;
	const char *s;
	struct tname *slot;
	size_t len;
	int32_t off;

	if (!gb || !type_addr_ok(gb, type_vaddr))
		return NULL;
	if (gb->tnames) {
		slot = tname_slot(gb, type_vaddr);
		if (slot->name)
			return slot->name;
	}
	t = gobin__data(gb, type_vaddr, TYPE_HDR);
	off = (int32_t)le32(t + 40);
	if (off < 0 || (uint64_t)off >= gb->etypes - gb->types)
		return NULL;
	s = read_name(gb, gb->types + (uint64_t)off, &len);
	if (!s)
		return NULL;
	if ((t[20] & TFLAG_EXTRA_STAR) && len > 0 && s[0] == '*') {
		s++;
		len--;
	}
	if ((gb->tn_count + 1) * 2 > (gb->tnames ? gb->tn_mask + 1 : 0) && tname_grow(gb))
		return NULL;
	slot = tname_slot(gb, type_vaddr);
	slot->name = strndup(s, len);
	if (!slot->name)
		return NULL;
	slot->addr = type_vaddr;
	gb->tn_count++;
	return slot->name;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t gobin__types(struct gobin *gb, uint64_t *out, size_t max)
{
	size_t count = 0, cap = 0, uniq = 0;
	uint64_t ptr, n, end, *all = NULL;

	if (!gb || gb->md_state <= 0)
		return 0;
	if (gb->md->typelinks >= 0) {
		const uint8_t *p;

		if (!read_ptr(gb, gb->md_addr + gb->md->typelinks, &ptr) ||
		    !read_ptr(gb, gb->md_addr + gb->md->typelinks + 8, &n) || n > (1 << 24))
			return 0;
		p = gobin__data(gb, ptr, n * 4);
		for (uint64_t i = 0; p && i < n; i++) {
			if (count < max)
				out[count] =
					gb->types + (uint64_t)(int64_t)(int32_t)le32(p + i * 4);
			count++;
		}
		return count;
	}
	/*
	 * Go 1.27 dropped typelinks; list the concrete types of the itabs the
	 * linker laid out after the type descriptors. An itab is {inter, type,
	 * hash, pad, fun[max(1, len(inter.methods))]}.
	 */
	if (!read_ptr(gb, gb->md_addr + gb->md->itaboff, &ptr) ||
	    !read_ptr(gb, gb->md_addr + gb->md->itabsize, &n) || ptr > gb->etypes - gb->types ||
	    n > gb->etypes - gb->types - ptr)
		return 0;
	end = gb->types + ptr + n;
	for (uint64_t a = gb->types + ptr; a + 32 <= end;) {
		uint64_t inter, typ, nm;

		if (!read_ptr(gb, a, &inter) || !read_ptr(gb, a + 8, &typ) ||
		    !type_addr_ok(gb, inter) || !read_ptr(gb, inter + 64, &nm) || nm > 4096)
			break;
		if (count == cap) {
			uint64_t *na = realloc(all, (cap = cap ? cap * 2 : 1024) * sizeof(*all));

			if (!na)
				break;
			all = na;
		}
		all[count++] = typ;
		a += 24 + 8 * (nm ? nm : 1);
	}
	/* a type implementing several interfaces has several itabs */
	if (count)
		qsort(all, count, sizeof(*all), u64_cmp);
	for (size_t i = 0; i < count; i++) {
		if (i && all[i] == all[i - 1])
			continue;
		if (uniq < max)
			out[uniq] = all[i];
		uniq++;
	}
	free(all);
	return uniq;
}
