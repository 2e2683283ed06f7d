/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the gobin_*.c files share: the struct behind a struct gobin, the
 * layouts of the tables read from the binary, and the functions one file
 * offers the others. Not for use outside src/go/gobin*.c.
 */
#ifndef LUPROBE_GOBIN_INTERNAL_H
#define LUPROBE_GOBIN_INTERNAL_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gobin.h"

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

/*
 * runtime.moduledata field offsets (64-bit) per release, from each release's
 * runtime/symtab.go. Only the fields luprobe reads are listed.
 */
struct md_layout {
	int minor; /* first Go minor release with this layout */
	int text, types, etypes, gofunc, epclntab, typelinks, itaboff, itabsize;
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

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static inline bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Decode an unsigned LEB128 varint of at most 10 bytes; bytes used, 0 if malformed. */
static inline size_t uvarint(const uint8_t *p, const uint8_t *end, uint64_t *v)
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

/* gobin_elf.c */
bool gobin_in_exec(const struct gobin *gb, uint64_t vaddr);
const uint8_t *gobin_data_avail(const struct gobin *gb, uint64_t vaddr, uint64_t *avail);
bool gobin_read_ptr(const struct gobin *gb, uint64_t vaddr, uint64_t *out);
uint64_t gobin_ptr_at(const struct gobin *gb, uint64_t vaddr, const uint8_t *p);
int gobin_pcln_corrupt(const struct gobin *gb, const char *what, const char *where);
int gobin_parse_elf(struct gobin *gb);
const Elf64_Shdr *gobin_find_section(const struct gobin *gb, const char *name);
int gobin_load_relocs(struct gobin *gb);
int gobin_load_symtab(struct gobin *gb);
const struct sym *gobin_sym_lookup(const struct gobin *gb, const char *name);

/* gobin_version.c */
void gobin_find_buildinfo(struct gobin *gb);
void gobin_find_version_string(struct gobin *gb);

/* gobin_pcln.c */
uint64_t gobin_ftab_entry(const struct gobin *gb, const struct pcln *pc, uint64_t i);
uint64_t gobin_ftab_funcoff(const struct pcln *pc, uint64_t i);
bool gobin_md_find(struct gobin *gb);
int gobin_check_text(struct gobin *gb);
int gobin_find_pcln(struct gobin *gb);

/* gobin_func.c */
int gobin_load_funcs(struct gobin *gb);
void gobin_fill_func_flags(struct gobin *gb);
int gobin_build_index(struct gobin *gb);
int gobin_cross_check(struct gobin *gb);

#endif
