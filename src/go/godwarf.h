/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parameter names and types of Go functions, from the binary's DWARF
 * (libdw). Types are converted into the gotype model once per DIE and
 * memoized, so recursive and shared types cost nothing more.
 */
#ifndef LUPROBE_GODWARF_H
#define LUPROBE_GODWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gotype.h"

struct godwarf;

/* One formal parameter: the receiver and arguments in order, then the results. */
struct goparam {
	const char *name; /* "iterations"; results unnamed in source get "~r0", "~r1"... */
	const struct gotype *type;
	bool is_result;
};

/*
 * Open the DWARF of the Go executable at path; types are allocated in ts.
 * Returns 0, or -ENOENT when the binary has no DWARF (no message recorded:
 * that is a normal case), or another -errno with lp_seterr().
 */
int godwarf__open(const char *path, struct gotypes *ts, struct godwarf **out);
/* The same for the file open at fd (duplicated, not taken), named name in messages. */
int godwarf__open_fd(int fd, const char *name, struct gotypes *ts, struct godwarf **out);
/*
 * The same for an ELF image in memory (e.g. for fuzzing), named name in
 * messages. libelf reads buf in place and the reader edits its section
 * headers: buf must be writable and stay allocated until godwarf__free().
 */
int godwarf__open_mem(void *buf, size_t len, const char *name, struct gotypes *ts,
		      struct godwarf **out);
void godwarf__free(struct godwarf *dw); /* accepts NULL */

/*
 * The parameters of function func (its pclntab name, e.g. "main.(*T).M").
 * *params points into memory owned by dw. Returns 0, or -ENOENT if DWARF has
 * no such function (no message recorded).
 */
int godwarf__func_params(struct godwarf *dw, const char *func, const struct goparam **params,
			 size_t *n);

/*
 * The same, for the function whose code starts at entry (its link-time
 * address in the pclntab; 0 if unknown). Several instances of a generic
 * function may share one DWARF name; the entry picks the right one, and
 * without it an ambiguous name is -ENOENT. An instance looked up by its
 * pclntab name ("main.Map[go.shape.int]") is also found under the DWARF
 * spelling with elided type arguments ("main.Map[...]") and vice versa.
 *
 * The list is what the function receives, in order: a function
 * instantiated for shapes gets a first parameter ".dict" (unsafe.Pointer),
 * the dictionary Go passes before the receiver and DWARF does not list.
 * Parameters named "_" or left unnamed are absent from Go's DWARF although
 * they occupy registers or stack: check a layout computed from this list
 * against the pclntab (argument size, ArgInfo) before trusting it.
 */
int godwarf__func_params_at(struct godwarf *dw, const char *func, uint64_t entry,
			    const struct goparam **params, size_t *n);

/* A named type by its Go name ("main.T", "net/http.Request", "*main.T"), or NULL. */
const struct gotype *godwarf__type(struct godwarf *dw, const char *name);

#endif
