/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capstone, loaded when luprobe first decodes code and unloaded once the
 * probes are attached: the library (every architecture, 80,000 relocations)
 * keeps about 4.7 MB resident, which a tracer that only streams events does
 * not need. Include this after <capstone/capstone.h>: the cs_* calls below
 * then go through the loaded library.
 */
#ifndef LUPROBE_CAPSTONE_LOADER_H
#define LUPROBE_CAPSTONE_LOADER_H

#include <capstone/capstone.h>

/* Load capstone if needed: 0, or -ENOENT with lp_seterr() naming the library. */
int capstone__load(void);
/* Unload it (the next capstone__load loads it again). */
void capstone__release(void);

cs_err capstone__open(cs_arch arch, cs_mode mode, csh *handle);
cs_err capstone__option(csh handle, cs_opt_type type, size_t value);
cs_insn *capstone__malloc(csh handle);
bool capstone__iter(csh handle, const uint8_t **code, size_t *size, uint64_t *address,
		    cs_insn *insn);
void capstone__free(cs_insn *insn, size_t count);
cs_err capstone__close(csh *handle);

#ifndef LUPROBE_CAPSTONE_LOADER_IMPL
#define cs_open	       capstone__open
#define cs_option      capstone__option
#define cs_malloc      capstone__malloc
#define cs_disasm_iter capstone__iter
#define cs_free	       capstone__free
#define cs_close       capstone__close
#endif

#endif
