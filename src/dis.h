/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capstone, loaded when luprobe first decodes code and unloaded once the
 * probes are attached: the library (every architecture, 80,000 relocations)
 * keeps about 4.7 MB resident, which a tracer that only streams events does
 * not need. Include this after <capstone/capstone.h>: the cs_* calls below
 * then go through the loaded library.
 */
#ifndef LUPROBE_DIS_H
#define LUPROBE_DIS_H

#include <capstone/capstone.h>

/* Load capstone if needed: 0, or -ENOENT with lp_seterr() naming the library. */
int dis__load(void);
/* Unload it (the next dis__load loads it again). */
void dis__release(void);

cs_err dis__open(cs_arch arch, cs_mode mode, csh *handle);
cs_err dis__option(csh handle, cs_opt_type type, size_t value);
cs_insn *dis__malloc(csh handle);
bool dis__iter(csh handle, const uint8_t **code, size_t *size, uint64_t *address, cs_insn *insn);
void dis__free(cs_insn *insn, size_t count);
cs_err dis__close(csh *handle);

#ifndef LUPROBE_DIS_IMPL
#define cs_open	       dis__open
#define cs_option      dis__option
#define cs_malloc      dis__malloc
#define cs_disasm_iter dis__iter
#define cs_free	       dis__free
#define cs_close       dis__close
#endif

#endif
