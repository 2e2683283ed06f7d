/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where Go passes each parameter and result on amd64.
 *
 * Two ABIs:
 *  - GOABI_STACK (ABI0): Go <= 1.16, and assembly functions in every
 *    version. Arguments in memory from SP+8 (SP at function entry points at
 *    the return address), each aligned to its type; results follow, starting
 *    at the next pointer-aligned offset.
 *  - GOABI_REG (ABIInternal, Go >= 1.17): the algorithm of
 *    src/cmd/compile/abi-internal.md. Integer registers RAX RBX RCX RDI RSI
 *    R8 R9 R10 R11, float registers X0-X14. A value is assigned wholly to
 *    registers or wholly to the stack; strings, slices, interfaces, complex
 *    numbers, structs and arrays of length <= 1 are split into their fields;
 *    longer arrays go to the stack. Results are assigned afresh from RAX/X0.
 *    Stack-assigned arguments start at SP+8, stack-assigned results follow
 *    them, then the spill area for register-assigned arguments.
 *
 * Offsets are relative to SP at the function's entry, which is also SP at
 * each of its RET instructions.
 */
#ifndef LUPROBE_GOABI_H
#define LUPROBE_GOABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gotype.h"

enum goabi {
	GOABI_STACK = 0,
	GOABI_REG = 1,
};

enum goreg_class {
	GOREG_INT = 0,	 /* index 0..8: RAX RBX RCX RDI RSI R8 R9 R10 R11 */
	GOREG_FLOAT = 1, /* index 0..14: X0..X14 */
};

#define GOABI_NINTREG	9
#define GOABI_NFLOATREG 15

/* One register-held scalar of a value. */
struct gopiece {
	uint32_t offset; /* byte offset of this scalar in the value's memory layout */
	uint8_t size;	 /* 1, 2, 4 or 8 bytes */
	uint8_t cls;	 /* enum goreg_class */
	uint8_t reg;	 /* index within the class */
};

#define GOABI_MAXPIECES 32

/* Where one parameter or result lives. */
struct goassign {
	bool in_regs;	   /* pieces[] in registers; else the whole value at stack_off */
	int32_t stack_off; /* !in_regs: offset of the value from entry SP */
	int32_t spill_off; /* in_regs, parameters only: offset of its spill slot from entry SP */
	uint32_t npieces;
	struct gopiece pieces[GOABI_MAXPIECES];
};

/* The layout of a whole signature. */
struct goframe {
	uint32_t args_size;    /* bytes of stack-assigned arguments (from SP+8) */
	uint32_t results_size; /* bytes of stack-assigned results */
	uint32_t spill_size;   /* bytes of the spill area */
};

/*
 * Assign locations to params (receiver first) and results. out_params and
 * out_results have nparams and nresults elements. Returns 0, or -E2BIG if a
 * value has more than GOABI_MAXPIECES register pieces (cannot happen with
 * the real register counts), -EINVAL for an invalid type.
 */
int goabi__assign(enum goabi abi, const struct gotype *const *params, size_t nparams,
		  const struct gotype *const *results, size_t nresults, struct goassign *out_params,
		  struct goassign *out_results, struct goframe *frame);

/* Register name for messages: "RAX", "X3". */
const char *goabi__reg_name(enum goreg_class cls, unsigned idx);

#endif
