/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Go binary inspector: everything luprobe learns from a Go executable file
 * without running it. ELF headers and program headers, the Go version and
 * build settings (.go.buildinfo, or the "go1.N" string), the function table
 * from the pclntab (every format from Go 1.2 to today, found by section name
 * or by its header), .symtab when present, and static data by virtual
 * address.
 *
 * The file is mapped read-only; every read is bounds-checked, so a truncated
 * or corrupted file yields an error, never a crash.
 */
#ifndef LUPROBE_GOBIN_H
#define LUPROBE_GOBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gobin;

/* pclntab formats, by header magic */
enum gobin_pcln {
	GOBIN_PCLN_12 = 12,   /* 0xfffffffb: Go 1.2 - 1.15 */
	GOBIN_PCLN_116 = 116, /* 0xfffffffa: Go 1.16 - 1.17 */
	GOBIN_PCLN_118 = 118, /* 0xfffffff0: Go 1.18 - 1.19 */
	GOBIN_PCLN_120 = 120, /* 0xfffffff1: Go 1.20 and later */
};

struct gobin_info {
	char go_version[32];		  /* "go1.19.8"; "" when unknown */
	int go_major, go_minor, go_patch; /* 1, 19, 8; 0 when unknown */
	bool version_from_buildinfo;	  /* else from the go1.N string or the pclntab format */
	enum gobin_pcln pcln;		  /* pclntab format */
	const char *arch;		  /* "amd64" (only amd64 is accepted by gobin__open) */
	bool regabi;			  /* Go >= 1.17 on amd64: register ABI for Go functions */
	bool pie;			  /* ET_DYN */
	bool static_link;		  /* no PT_INTERP */
	bool cgo;	      /* CGO_ENABLED=1 in buildinfo, or cgo runtime symbols present */
	bool has_symtab;      /* .symtab present */
	bool has_dwarf;	      /* .debug_info or .zdebug_info present */
	bool has_buildinfo;   /* .go.buildinfo (or its magic) found and parsed */
	char *mod_path;	      /* main module path from buildinfo, or NULL */
	char *build_settings; /* buildinfo modinfo text ("path ...\nmod ...\nbuild ..."), or NULL */
	uint64_t text_start;  /* runtime.text (base of 1.18+ entry offsets); 0 if unknown */
	uint64_t pclntab_addr; /* virtual address of the pclntab header */
	size_t nfuncs;
};

/* One function of the table. Pointers stay valid until gobin__free(). */
struct gobin_func {
	const char *name; /* full Go symbol name, e.g. "net/http.(*ServeMux).ServeHTTP" */
	uint64_t entry;	  /* virtual address as linked (not relocated for PIE) */
	uint64_t end;	  /* next function's entry (padding included), or the table's end */
	uint32_t index;	  /* position in the function table */
	uint8_t funcid;	  /* runtime funcID (0 = normal) */
	uint8_t flag;	  /* runtime funcFlag bits (1.17+; 0 before) */
	bool asm_abi0;	  /* assembly using the stack ABI (ABI0); see gobin_func.c for how it is known */
	int32_t args;	  /* _func.args: bytes of arguments+results in stack-ABI terms, or -1 */
};

/*
 * Open and inspect a Go executable. On failure returns -errno, sets *out to
 * NULL and records one sentence with lp_seterr() that names the file, e.g.
 *   "./x: no such file", "./x: permission denied", "./x: is a directory"
 *   "/bin/ls: not a Go binary (no Go function table found)"
 *   "./x: not an ELF file"
 *   "./x: truncated or corrupted ELF file (section headers past end of file)"
 *   "./x: truncated or corrupted Go function table (bad header in .gopclntab)"
 *   "./x: built for arm64; luprobe traces amd64 binaries only"
 */
int gobin__open(const char *path, struct gobin **out);
/*
 * Open path for reading as gobin__open does (a FIFO does not block): the fd,
 * or -errno with lp_seterr() ("./x: no such file", "./x: permission denied").
 */
int gobin__open_file(const char *path);
/*
 * Inspect the file open at fd, named name in messages: what is read is that
 * file, whatever its path names meanwhile. fd stays the caller's (the map
 * keeps the file, fd may be closed after).
 */
int gobin__open_fd(int fd, const char *name, struct gobin **out);
/*
 * The same for an image already in memory (e.g. for fuzzing): buf is
 * borrowed, not copied, and must stay unchanged until gobin__free(); name
 * stands for the path in messages.
 */
int gobin__open_mem(const void *buf, size_t len, const char *name, struct gobin **out);
void gobin__free(struct gobin *gb); /* accepts NULL */

const char *gobin__path(const struct gobin *gb);
const struct gobin_info *gobin__info(const struct gobin *gb);

/* Function table, sorted by entry address. */
size_t gobin__nfuncs(const struct gobin *gb);
const struct gobin_func *gobin__func(const struct gobin *gb, size_t i);

/*
 * Exact name lookup; NULL if absent. Names can repeat (an ABI wrapper shares
 * its function's name; Go 1.18-1.20 name every instantiation "F[...]"): the
 * first in table order is returned, which is the function, not its wrappers.
 */
const struct gobin_func *gobin__find_func(const struct gobin *gb, const char *name);

/*
 * Glob lookup (fnmatch syntax, '*' also matches '/' and '.'): stores up to
 * max matches in out[] in table order and returns the total number of
 * matches (which may exceed max). A pattern with brackets matches a name if
 * either reading does: fnmatch classes ("main.[A-Z]*"), or brackets taken
 * literally as in Go names ("type:.eq.[2]string"), where "[...]" stands
 * for any one instantiation ("main.Map[...]" matches "main.Map[go.shape.int]").
 */
size_t gobin__glob(const struct gobin *gb, const char *pattern, const struct gobin_func **out,
		   size_t max);

/* Up to max existing names closest to name (edit distance, same package first). */
size_t gobin__suggest(const struct gobin *gb, const char *name, const char **out, size_t max);

/*
 * Where .symtab puts f: 0 with *addr = f->entry when one of its symbols of
 * f's name is there, else the address of the first; -ENOENT when there is
 * no .symtab or no function of that name in it.
 */
int gobin__func_symbol(const struct gobin *gb, const struct gobin_func *f, uint64_t *addr);

/* The alignment Go's linker gives f's entry for this binary's Go release. */
uint32_t gobin__func_align(const struct gobin *gb, const struct gobin_func *f);

/* The function containing pc (link-time address), or NULL. */
const struct gobin_func *gobin__func_at(const struct gobin *gb, uint64_t pc);

/* Source position of pc inside f from the pclntab; 0 or -ENOENT (e.g. in padding). */
int gobin__pc_line(const struct gobin *gb, const struct gobin_func *f, uint64_t pc,
		   const char **file, int *line);

/*
 * Argument layout for tracebacks (funcdata ArgInfo, Go 1.17+): copies the raw
 * bytes (format of runtime/traceback.go printArgs) up to and including the
 * 0xff end marker into buf, returns the number of bytes, 0 if the function
 * has none, -ENOENT before Go 1.17, -ENOSPC if len is too small, -EINVAL if
 * the data is damaged.
 */
int gobin__arginfo(const struct gobin *gb, const struct gobin_func *f, uint8_t *buf, size_t len);

/* A section header, with its file bytes (data is NULL for SHT_NOBITS or when out of the file). */
struct gobin_section {
	const char *name;
	uint32_t type;	/* SHT_* */
	uint64_t flags; /* SHF_* */
	uint64_t addr, size, entsize;
	const uint8_t *data;
};

/* Section i of the file; false past the last one. */
bool gobin__section(const struct gobin *gb, size_t i, struct gobin_section *out);

/* File offset of a virtual address through the PT_LOAD headers; 0 or -ENOENT. */
int gobin__vaddr_to_offset(const struct gobin *gb, uint64_t vaddr, uint64_t *off);

/* Pointer to len bytes of file-backed data at vaddr, or NULL if not all in the file. */
const void *gobin__data(const struct gobin *gb, uint64_t vaddr, size_t len);

/* Address of a .symtab symbol (e.g. "runtime.tlsg"); 0 or -ENOENT (also when stripped). */
int gobin__symbol(const struct gobin *gb, const char *name, uint64_t *addr, uint64_t *size);

/* The PT_TLS segment's memsz and alignment; 0 or -ENOENT if there is none. */
int gobin__tls(const struct gobin *gb, uint64_t *memsz, uint64_t *align);

/*
 * Name of the Go type whose runtime type descriptor (*_type / *abi.Type) is
 * at vaddr, resolved through the module data (types section + nameOff);
 * NULL if unknown. The string is owned by gb.
 */
const char *gobin__type_name(struct gobin *gb, uint64_t type_vaddr);

/* Kind byte (reflect.Kind values, low 5 bits) of the type descriptor at vaddr, or -1. */
int gobin__type_kind(struct gobin *gb, uint64_t type_vaddr);

/*
 * Addresses of type descriptors the binary indexes for reflection: the
 * module data's typelinks (Go <= 1.26), or, from Go 1.27, which dropped
 * typelinks, the concrete types of the linker-built itabs. Stores up to max
 * in out[] and returns the total; 0 when the module data is not found.
 */
size_t gobin__types(struct gobin *gb, uint64_t *out, size_t max);

/*
 * For the runtime type reader (src/go/gobin_rtype_hooks.c). [start, end) of
 * the module's type descriptors and their names (runtime.types to
 * runtime.etypes), which nameOff and typeOff values are relative to; 0 or
 * -ENOENT.
 */
int gobin__types_range(struct gobin *gb, uint64_t *start, uint64_t *end);

/*
 * Go 1.27 and later: [start, start + size) of the itabs the linker laid out
 * after the type descriptors; 0 or -ENOENT (before 1.27 the .itablink
 * section lists them).
 */
int gobin__itab_area(struct gobin *gb, uint64_t *start, uint64_t *size);

/*
 * The pointer stored at vaddr, as linked: where a PIE build leaves the word
 * to a RELATIVE relocation, the relocation's value. false if vaddr is not
 * in the file.
 */
bool gobin__read_ptr(const struct gobin *gb, uint64_t vaddr, uint64_t *out);

#endif
