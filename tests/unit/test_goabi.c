// SPDX-License-Identifier: BSD-2-Clause
/*
 * The ABI model, checked two ways:
 *
 *  - by hand, against derivations from src/cmd/compile/abi-internal.md;
 *  - against the Go compiler, reading the code of tests/go/abi (built into
 *    .output/go/abi/default by tests/go/build.sh; skipped when absent). For
 *    each function F of that program, called by cF with constants and
 *    storing its results to globals rF_0, rF_1, ...:
 *      1. the morestack path of F stores every register argument to its
 *         spill slot: those (register, size, offset) stores must be exactly
 *         the pieces and spill offsets goabi__assign gives;
 *      2. cF, up to its CALL F, leaves each argument's constants in the
 *         registers or stack slots goabi__assign names;
 *      3. cF, after the CALL, copies each result from the registers or
 *         stack slots goabi__assign names into the global rF_i.
 *    2 and 3 come from a small symbolic execution of cF's straight-line
 *    code: each byte of a register, of the stack and of a global is known to
 *    be a constant, a byte of a register at the start, or a byte of the stack
 *    at the start; registers that hold a stack or global address are
 *    followed, as are the frame pointer's PUSH and POP (Go 1.26 copies
 *    values through such registers and saves BP that way). The ABI0
 *    functions asm1, asm2 and asm3 are checked by 2 and 3.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "goabi.h"
#include "log.h"
#include "unit.h"

#define ABI_BIN gotarget("abi/default")

/* Types, as DWARF or a script would describe them. */

#define SCALAR(k, nm, sz, al)                                                                      \
	{                                                                                          \
		.kind = (k), .name = (nm), .size = (sz), .align = (al)                             \
	}
#define ARRAY(nm, el, n)                                                                           \
	{                                                                                          \
		.kind = GK_ARRAY, .name = (nm), .size = (n) * (el).size, .align = (el).align,      \
		.elem = &(el), .len = (n)                                                          \
	}
#define STRUCT(nm, sz, al, fl)                                                                     \
	{                                                                                          \
		.kind = GK_STRUCT, .name = (nm), .size = (sz), .align = (al),                      \
		.nfields = sizeof(fl) / sizeof((fl)[0]), .fields = (fl)                            \
	}

static const struct gotype t_bool = SCALAR(GK_BOOL, "bool", 1, 1);
static const struct gotype t_int8 = SCALAR(GK_INT, "int8", 1, 1);
static const struct gotype t_int16 = SCALAR(GK_INT, "int16", 2, 2);
static const struct gotype t_int32 = SCALAR(GK_INT, "int32", 4, 4);
static const struct gotype t_int64 = SCALAR(GK_INT, "int64", 8, 8);
static const struct gotype t_int = SCALAR(GK_INT, "int", 8, 8);
static const struct gotype t_uint8 = SCALAR(GK_UINT, "uint8", 1, 1);
static const struct gotype t_uint16 = SCALAR(GK_UINT, "uint16", 2, 2);
static const struct gotype t_uint32 = SCALAR(GK_UINT, "uint32", 4, 4);
static const struct gotype t_uint64 = SCALAR(GK_UINT, "uint64", 8, 8);
static const struct gotype t_uintptr = SCALAR(GK_UINTPTR, "uintptr", 8, 8);
static const struct gotype t_float32 = SCALAR(GK_FLOAT, "float32", 4, 4);
static const struct gotype t_float64 = SCALAR(GK_FLOAT, "float64", 8, 8);
static const struct gotype t_complex64 = SCALAR(GK_COMPLEX, "complex64", 8, 4);
static const struct gotype t_complex128 = SCALAR(GK_COMPLEX, "complex128", 16, 8);
static const struct gotype t_string = SCALAR(GK_STRING, "string", 16, 8);
static const struct gotype t_unsafeptr = SCALAR(GK_UNSAFEPTR, "unsafe.Pointer", 8, 8);
static const struct gotype t_error = SCALAR(GK_IFACE, "error", 16, 8);
static const struct gotype t_any = SCALAR(GK_EFACE, "interface {}", 16, 8);
static const struct gotype t_map = {GK_MAP, "map[int]int", 8, 8, &t_int, &t_int, 0, 0, NULL};
static const struct gotype t_chan = {GK_CHAN, "chan int", 8, 8, &t_int, NULL, 0, 0, NULL};
static const struct gotype t_func = SCALAR(GK_FUNC, "func()", 8, 8);
static const struct gotype t_ptr_int64 = {GK_PTR, "*int64", 8, 8, &t_int64, NULL, 0, 0, NULL};
static const struct gotype t_bytes = {GK_SLICE, "[]uint8", 24, 8, &t_uint8, NULL, 0, 0, NULL};

static const struct gotype t_arr0_int = ARRAY("[0]int", t_int, 0);
static const struct gotype t_arr1_int = ARRAY("[1]int", t_int, 1);
static const struct gotype t_arr2_int = ARRAY("[2]int", t_int, 2);
static const struct gotype t_arr1_float64 = ARRAY("[1]float64", t_float64, 1);
static const struct gotype t_arr1_int32 = ARRAY("[1]int32", t_int32, 1);
static const struct gotype t_arr2_int16 = ARRAY("[2]int16", t_int16, 2);
static const struct gotype t_arr2_int8 = ARRAY("[2]int8", t_int8, 2);
static const struct gotype t_arr3_int8 = ARRAY("[3]int8", t_int8, 3);
static const struct gotype t_arr0_int64 = ARRAY("[0]int64", t_int64, 0);
static const struct gotype t_arr2_uintptr = ARRAY("[2]uintptr", t_uintptr, 2);
static const struct gotype t_empty = {GK_STRUCT, "struct {}", 0, 1, NULL, NULL, 0, 0, NULL};
static const struct gotype t_arr2_empty = ARRAY("[2]struct {}", t_empty, 2);

/* type S struct { A int8; B float64 } */
static const struct gofield f_S[] = {{"A", 0, &t_int8, false}, {"B", 8, &t_float64, false}};
static const struct gotype t_S = STRUCT("main.S", 16, 8, f_S);

/* N: struct { X struct{A int16; B int64}; Y float32; Z struct{P *int64; Q [1]int32}; W [0]int64 }
 */
static const struct gofield f_NX[] = {{"A", 0, &t_int16, false}, {"B", 8, &t_int64, false}};
static const struct gotype t_NX = STRUCT("struct { A int16; B int64 }", 16, 8, f_NX);
static const struct gofield f_NZ[] = {{"P", 0, &t_ptr_int64, false},
				      {"Q", 8, &t_arr1_int32, false}};
static const struct gotype t_NZ = STRUCT("struct { P *int64; Q [1]int32 }", 16, 8, f_NZ);
/* W is zero-sized and last, so N gets a padding byte: 41 bytes, rounded to 48. */
static const struct gofield f_N[] = {{"X", 0, &t_NX, false},
				     {"Y", 16, &t_float32, false},
				     {"Z", 24, &t_NZ, false},
				     {"W", 40, &t_arr0_int64, false}};
static const struct gotype t_N = STRUCT("main.N", 48, 8, f_N);

/* type Big struct{ A, B, C, D, E, F, G, H, I, J int32 } */
static const struct gofield f_Big[] = {
	{"A", 0, &t_int32, false},  {"B", 4, &t_int32, false},	{"C", 8, &t_int32, false},
	{"D", 12, &t_int32, false}, {"E", 16, &t_int32, false}, {"F", 20, &t_int32, false},
	{"G", 24, &t_int32, false}, {"H", 28, &t_int32, false}, {"I", 32, &t_int32, false},
	{"J", 36, &t_int32, false},
};
static const struct gotype t_Big = STRUCT("main.Big", 40, 4, f_Big);

/* type ZeroArr struct { A [2]struct{}; B int64 } */
static const struct gofield f_ZeroArr[] = {{"A", 0, &t_arr2_empty, false},
					   {"B", 0, &t_int64, false}};
static const struct gotype t_ZeroArr = STRUCT("main.ZeroArr", 8, 8, f_ZeroArr);

/* type TrailZero struct { A int64; B struct{} } */
static const struct gofield f_TrailZero[] = {{"A", 0, &t_int64, false}, {"B", 8, &t_empty, false}};
static const struct gotype t_TrailZero = STRUCT("main.TrailZero", 16, 8, f_TrailZero);

/* type T struct { A int32; B string } */
static const struct gofield f_T[] = {{"A", 0, &t_int32, false}, {"B", 8, &t_string, false}};
static const struct gotype t_T = STRUCT("main.T", 24, 8, f_T);
static const struct gotype t_ptr_T = {GK_PTR, "*main.T", 8, 8, &t_T, NULL, 0, 0, NULL};

/* The scalars of a value: what one register would hold if it went to registers. */

struct leaf {
	uint32_t off;
	uint8_t size;
};

#define MAXLEAVES 64

static int leaves_of(const struct gotype *t, uint32_t off, struct leaf *out, int n)
{
	switch (t->kind) {
	case GK_STRUCT:
		for (size_t i = 0; i < t->nfields; i++)
			n = leaves_of(t->fields[i].type, off + t->fields[i].offset, out, n);
		return n;
	case GK_ARRAY:
		for (uint64_t i = 0; i < t->len; i++)
			n = leaves_of(t->elem, off + i * t->elem->size, out, n);
		return n;
	case GK_COMPLEX:
		out[n++] = (struct leaf){off, t->size / 2};
		out[n++] = (struct leaf){off + t->size / 2, t->size / 2};
		return n;
	case GK_STRING:
	case GK_SLICE:
	case GK_IFACE:
	case GK_EFACE:
		for (uint64_t w = 0; w < t->size; w += 8)
			out[n++] = (struct leaf){off + w, 8};
		return n;
	default:
		out[n++] = (struct leaf){off, t->size};
		return n;
	}
}

/* The ELF file: sections to read code and read-only data, symbols by name. */

struct elfbin {
	int fd;
	Elf *elf;
	const unsigned char *img; /* the whole file, owned by libelf */
	size_t imgsize;
	size_t nsecs;
	struct sec {
		uint64_t addr, size, off;
		bool write, nobits;
	} * secs;
	Elf_Data *symdata;
	size_t nsyms;
	size_t strndx;
};

static void elfbin_close(struct elfbin *b)
{
	if (b->elf)
		elf_end(b->elf);
	if (b->fd >= 0)
		close(b->fd);
	free(b->secs);
}

static int elfbin_open(struct elfbin *b, const char *path)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t i = 0;

	memset(b, 0, sizeof(*b));
	b->fd = open(path, O_RDONLY);
	if (b->fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	b->elf = elf_begin(b->fd, ELF_C_READ, NULL);
	if (!b->elf)
		return -EINVAL;
	b->img = (const unsigned char *)elf_rawfile(b->elf, &b->imgsize);
	if (!b->img || elf_getshdrnum(b->elf, &b->nsecs))
		return -EINVAL;
	b->secs = calloc(b->nsecs, sizeof(*b->secs));
	while ((scn = elf_nextscn(b->elf, scn)) && i < b->nsecs) {
		if (!gelf_getshdr(scn, &sh))
			return -EINVAL;
		b->secs[i++] =
			(struct sec){sh.sh_addr, sh.sh_size, sh.sh_offset,
				     (sh.sh_flags & SHF_WRITE) != 0, sh.sh_type == SHT_NOBITS};
		if (sh.sh_type == SHT_SYMTAB) {
			b->symdata = elf_getdata(scn, NULL);
			b->nsyms = sh.sh_size / sh.sh_entsize;
			b->strndx = sh.sh_link;
		}
	}
	b->nsecs = i;
	return b->symdata ? 0 : -ENOENT;
}

static bool elfbin_sym(const struct elfbin *b, const char *name, uint64_t *addr, uint64_t *size)
{
	GElf_Sym sym;

	for (size_t i = 0; i < b->nsyms; i++) {
		const char *n;

		if (!gelf_getsym(b->symdata, (int)i, &sym))
			continue;
		n = elf_strptr(b->elf, b->strndx, sym.st_name);
		if (n && strcmp(n, name) == 0) {
			*addr = sym.st_value;
			*size = sym.st_size;
			return true;
		}
	}
	return false;
}

/* n bytes at address addr of a section that has them in the file, or NULL. */
static const unsigned char *elfbin_bytes(const struct elfbin *b, uint64_t addr, uint64_t n,
					 bool readonly)
{
	for (size_t i = 0; i < b->nsecs; i++) {
		const struct sec *s = &b->secs[i];

		if (!s->addr || s->nobits || addr < s->addr || addr + n > s->addr + s->size)
			continue;
		if (readonly && s->write)
			return NULL;
		if (s->off + (addr - s->addr) + n > b->imgsize)
			return NULL;
		return b->img + s->off + (addr - s->addr);
	}
	return NULL;
}

/* Registers: our numbering puts Go's integer argument registers first, in ABI order. */

#define NGPR	 16
#define REG_RSP	 10
#define REG_R14	 14
#define REG_X(i) (NGPR + (i))
#define NREGS	 (NGPR + 16)

static const x86_reg gpr_names[NGPR][5] = {
	{X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH},
	{X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH},
	{X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH},
	{X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_INVALID},
	{X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_INVALID},
	{X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, X86_REG_INVALID},
	{X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, X86_REG_INVALID},
	{X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B, X86_REG_INVALID},
	{X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B, X86_REG_INVALID},
	{X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH},
	{X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_INVALID},
	{X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_INVALID},
	{X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B, X86_REG_INVALID},
	{X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B, X86_REG_INVALID},
	{X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B, X86_REG_INVALID},
	{X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B, X86_REG_INVALID},
};

struct regref {
	int no;	   /* our register number, -1 if not one we track */
	int width; /* bytes the operand names */
	int byte;  /* first byte of the register it names (1 for AH..DH) */
};

static struct regref reg_ref(x86_reg r)
{
	static const int widths[5] = {8, 4, 2, 1, 1};

	if (r >= X86_REG_XMM0 && r <= X86_REG_XMM15)
		return (struct regref){REG_X(r - X86_REG_XMM0), 16, 0};
	for (int i = 0; i < NGPR; i++)
		for (int j = 0; j < 5; j++)
			if (gpr_names[i][j] == r && r != X86_REG_INVALID)
				return (struct regref){i, widths[j], j == 4};
	return (struct regref){-1, 0, 0};
}

static int piece_regno(const struct gopiece *p)
{
	return p->cls == GOREG_INT ? p->reg : REG_X(p->reg);
}

/* The symbolic execution. */

enum { SB_UNK, SB_CONST, SB_REG, SB_STK };

struct sbyte {
	uint8_t kind;
	uint8_t reg; /* SB_REG: register number */
	uint8_t val; /* SB_CONST: the byte */
	int32_t off; /* SB_REG: byte of the register; SB_STK: address from the start SP */
};

#define STK_SPAN 2048 /* bytes tracked on each side of the starting SP */
#define MAXGLOB	 1024

struct sim {
	const struct elfbin *bin;
	struct sbyte reg[NREGS][16];
	struct sbyte stk[2 * STK_SPAN];
	int64_t rsp; /* from the starting SP */
	/* a register that holds a stack address (Go 1.26 copies through them): from the start SP */
	bool sp_valid[NGPR];
	int64_t sp_off[NGPR];
	size_t nglob;
	struct {
		uint64_t addr;
		struct sbyte b;
	} glob[MAXGLOB];
	char err[320]; /* first thing the simulation could not follow */
};

static const struct sbyte unk = {SB_UNK, 0, 0, 0};

static struct sbyte sb_const(uint8_t v)
{
	return (struct sbyte){SB_CONST, 0, v, 0};
}

static bool sb_eq(struct sbyte a, struct sbyte b)
{
	if (a.kind != b.kind)
		return false;
	switch (a.kind) {
	case SB_CONST:
		return a.val == b.val;
	case SB_REG:
		return a.reg == b.reg && a.off == b.off;
	case SB_STK:
		return a.off == b.off;
	}
	return false;
}

/* orig: registers and stack hold their starting values (after a CALL); else unknown. */
static void sim_init(struct sim *s, const struct elfbin *bin, bool orig)
{
	memset(s, 0, sizeof(*s));
	s->bin = bin;
	for (int r = 0; r < NREGS; r++)
		for (int i = 0; i < 16; i++)
			s->reg[r][i] = orig ? (struct sbyte){SB_REG, (uint8_t)r, 0, i} : unk;
	for (int i = 0; i < 2 * STK_SPAN; i++)
		s->stk[i] = orig ? (struct sbyte){SB_STK, 0, 0, i - STK_SPAN} : unk;
	/* ABIInternal keeps X15 zero at calls and returns. */
	for (int i = 0; i < 16; i++)
		s->reg[REG_X(15)][i] = sb_const(0);
}

static void sim_fail(struct sim *s, const cs_insn *in, const char *why)
{
	if (!s->err[0])
		snprintf(s->err, sizeof(s->err), "%#llx %s %s: %s", (unsigned long long)in->address,
			 in->mnemonic, in->op_str, why);
}

enum memkind { MEM_STACK, MEM_GLOBAL, MEM_OTHER };

static enum memkind mem_addr(const struct sim *s, const cs_insn *in, const cs_x86_op *op,
			     int64_t *addr)
{
	struct regref r;
	uint64_t v = 0;

	if (op->mem.segment != X86_REG_INVALID || op->mem.index != X86_REG_INVALID)
		return MEM_OTHER;
	if (op->mem.base == X86_REG_RSP) {
		*addr = s->rsp + op->mem.disp;
		return MEM_STACK;
	}
	if (op->mem.base == X86_REG_RIP) {
		*addr = (int64_t)(in->address + in->size) + op->mem.disp;
		return MEM_GLOBAL;
	}
	/* through a register that holds a stack address, or a known global one */
	r = reg_ref(op->mem.base);
	if (r.no < 0 || r.no >= NGPR || r.width != 8)
		return MEM_OTHER;
	if (s->sp_valid[r.no]) {
		*addr = s->sp_off[r.no] + op->mem.disp;
		return MEM_STACK;
	}
	for (int i = 7; i >= 0; i--) {
		if (s->reg[r.no][i].kind != SB_CONST)
			return MEM_OTHER;
		v = v << 8 | s->reg[r.no][i].val;
	}
	*addr = (int64_t)(v + (uint64_t)op->mem.disp);
	return MEM_GLOBAL;
}

static struct sbyte *stk_byte(struct sim *s, int64_t addr)
{
	if (addr < -STK_SPAN || addr >= STK_SPAN)
		return NULL;
	return &s->stk[addr + STK_SPAN];
}

static struct sbyte glob_get(const struct sim *s, uint64_t addr)
{
	const unsigned char *p;

	for (size_t i = s->nglob; i-- > 0;)
		if (s->glob[i].addr == addr)
			return s->glob[i].b;
	/* Read-only data, such as float constants, is what the file says. */
	p = elfbin_bytes(s->bin, addr, 1, true);
	return p ? sb_const(*p) : unk;
}

static void glob_set(struct sim *s, const cs_insn *in, uint64_t addr, struct sbyte b)
{
	for (size_t i = 0; i < s->nglob; i++)
		if (s->glob[i].addr == addr) {
			s->glob[i].b = b;
			return;
		}
	if (s->nglob == MAXGLOB) {
		sim_fail(s, in, "too many global bytes written");
		return;
	}
	s->glob[s->nglob].addr = addr;
	s->glob[s->nglob++].b = b;
}

/* Read n bytes of operand op into v. */
static void sim_read(struct sim *s, const cs_insn *in, const cs_x86_op *op, int n, struct sbyte *v)
{
	int64_t addr;

	for (int i = 0; i < n; i++)
		v[i] = unk;
	switch (op->type) {
	case X86_OP_REG: {
		struct regref r = reg_ref(op->reg);

		if (r.no >= 0)
			for (int i = 0; i < n && r.byte + i < 16; i++)
				v[i] = s->reg[r.no][r.byte + i];
		break;
	}
	case X86_OP_IMM:
		for (int i = 0; i < n; i++)
			v[i] = sb_const((uint8_t)((uint64_t)op->imm >> (8 * (i < 8 ? i : 7))));
		break;
	case X86_OP_MEM:
		switch (mem_addr(s, in, op, &addr)) {
		case MEM_STACK:
			for (int i = 0; i < n; i++) {
				struct sbyte *b = stk_byte(s, addr + i);

				v[i] = b ? *b : unk;
			}
			break;
		case MEM_GLOBAL:
			for (int i = 0; i < n; i++)
				v[i] = glob_get(s, (uint64_t)addr + i);
			break;
		case MEM_OTHER:
			break;
		}
		break;
	default:
		break;
	}
}

/*
 * Write n bytes of v to operand op. A register write of 4 bytes clears the
 * upper half, as on amd64; zero_upto clears register bytes [n, zero_upto).
 */
static void sim_write(struct sim *s, const cs_insn *in, const cs_x86_op *op, int n,
		      const struct sbyte *v, int zero_upto)
{
	int64_t addr;

	if (op->type == X86_OP_REG) {
		struct regref r = reg_ref(op->reg);

		if (r.no == REG_RSP) {
			sim_fail(s, in, "unmodelled write to RSP");
			return;
		}
		if (r.no < 0)
			return;
		if (r.no < NGPR)
			s->sp_valid[r.no] = false;
		for (int i = 0; i < n && r.byte + i < 16; i++)
			s->reg[r.no][r.byte + i] = v[i];
		if (r.no < NGPR && n == 4 && zero_upto < 8)
			zero_upto = 8;
		for (int i = n; i < zero_upto; i++)
			s->reg[r.no][i] = sb_const(0);
		return;
	}
	if (op->type != X86_OP_MEM)
		return;
	switch (mem_addr(s, in, op, &addr)) {
	case MEM_STACK:
		for (int i = 0; i < n; i++) {
			struct sbyte *b = stk_byte(s, addr + i);

			if (!b) {
				sim_fail(s, in, "stack store out of the tracked window");
				return;
			}
			*b = v[i];
		}
		break;
	case MEM_GLOBAL:
		for (int i = 0; i < n; i++)
			glob_set(s, in, (uint64_t)addr + i, v[i]);
		break;
	case MEM_OTHER:
		break;
	}
}

/* What an instruction we do not model does: whatever it writes becomes unknown. */
static void sim_clobber(struct sim *s, csh cs, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	struct sbyte v[16];
	cs_regs rd, wr;
	uint8_t nrd, nwr;

	for (int i = 0; i < 16; i++)
		v[i] = unk;
	if (cs_regs_access(cs, in, rd, &nrd, wr, &nwr) == CS_ERR_OK) {
		for (int i = 0; i < nwr; i++) {
			struct regref r = reg_ref(wr[i]);

			if (r.no == REG_RSP)
				sim_fail(s, in, "unmodelled write to RSP");
			else if (r.no >= 0)
				memcpy(s->reg[r.no], v, sizeof(s->reg[r.no]));
			if (r.no >= 0 && r.no < NGPR && r.no != REG_RSP)
				s->sp_valid[r.no] = false;
		}
	}
	if (x->op_count && x->operands[0].type == X86_OP_MEM &&
	    (x->operands[0].access & CS_AC_WRITE))
		sim_write(s, in, &x->operands[0], x->operands[0].size, v, 0);
}

static void sim_step(struct sim *s, csh cs, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *d = &x->operands[0], *src = &x->operands[1];
	struct sbyte v[16];
	int n;

	switch (in->id) {
	case X86_INS_MOV:
		/* MOVQ SP, CX: the register now points into the stack */
		if (src->type == X86_OP_REG && src->reg == X86_REG_RSP && d->type == X86_OP_REG &&
		    reg_ref(d->reg).no >= 0 && reg_ref(d->reg).no < NGPR && d->size == 8) {
			for (int i = 0; i < 8; i++)
				v[i] = unk;
			sim_write(s, in, d, 8, v, 0);
			s->sp_valid[reg_ref(d->reg).no] = true;
			s->sp_off[reg_ref(d->reg).no] = s->rsp;
			return;
		}
		/* fall through */
	case X86_INS_MOVABS:
		n = d->size;
		sim_read(s, in, src, n, v);
		sim_write(s, in, d, n, v, 0);
		return;
	case X86_INS_MOVZX:
		n = src->size;
		sim_read(s, in, src, n, v);
		sim_write(s, in, d, n, v, 8);
		return;
	case X86_INS_MOVSX:
	case X86_INS_MOVSXD:
		/* The low bytes are the source; the sign-filled upper ones we leave unknown. */
		n = src->size;
		sim_read(s, in, src, n, v);
		for (int i = n; i < 8; i++)
			v[i] = unk;
		sim_write(s, in, d, 8, v, 0);
		return;
	case X86_INS_MOVSS:
	case X86_INS_MOVSD:
	case X86_INS_MOVD:
	case X86_INS_MOVQ:
		if (x->op_count != 2)
			break;
		n = in->id == X86_INS_MOVSS || in->id == X86_INS_MOVD ? 4 : 8;
		sim_read(s, in, src, n, v);
		/* movss/movsd between XMM registers merge; every other form zero-extends. */
		if (d->type == X86_OP_REG && src->type == X86_OP_REG &&
		    (in->id == X86_INS_MOVSS || in->id == X86_INS_MOVSD))
			sim_write(s, in, d, n, v, 0);
		else
			sim_write(s, in, d, n, v, d->type == X86_OP_REG ? 16 : 0);
		return;
	case X86_INS_MOVUPS:
	case X86_INS_MOVAPS:
	case X86_INS_MOVUPD:
	case X86_INS_MOVAPD:
	case X86_INS_MOVDQU:
	case X86_INS_MOVDQA:
		sim_read(s, in, src, 16, v);
		sim_write(s, in, d, 16, v, 0);
		return;
	case X86_INS_XORPS:
	case X86_INS_XORPD:
	case X86_INS_PXOR:
	case X86_INS_XOR:
		if (x->op_count == 2 && d->type == X86_OP_REG && src->type == X86_OP_REG &&
		    d->reg == src->reg) {
			for (int i = 0; i < 16; i++)
				v[i] = sb_const(0);
			sim_write(s, in, d, d->size < 16 ? d->size : 16, v, 16);
			return;
		}
		break;
	case X86_INS_LEA: {
		int64_t a;

		if (src->mem.base == X86_REG_RIP && src->mem.index == X86_REG_INVALID) {
			a = (int64_t)(in->address + in->size) + src->mem.disp;
			for (int i = 0; i < 8; i++)
				v[i] = sb_const((uint8_t)((uint64_t)a >> (8 * i)));
			sim_write(s, in, d, d->size, v, 0);
			return;
		}
		/* LEAQ 0x58(SP), R12: a stack address, as Go 1.26 copies through them */
		if (mem_addr(s, in, src, &a) == MEM_STACK && d->size == 8 &&
		    reg_ref(d->reg).no >= 0 && reg_ref(d->reg).no < NGPR) {
			for (int i = 0; i < 8; i++)
				v[i] = unk;
			sim_write(s, in, d, 8, v, 0);
			s->sp_valid[reg_ref(d->reg).no] = true;
			s->sp_off[reg_ref(d->reg).no] = a;
			return;
		}
		break;
	}
	case X86_INS_PUSH:
	case X86_INS_POP:
		/* Go 1.26 saves the frame pointer with PUSHQ BP ... POPQ BP */
		if (x->op_count != 1 || d->type != X86_OP_REG || d->size != 8)
			break;
		if (in->id == X86_INS_PUSH) {
			sim_read(s, in, d, 8, v);
			s->rsp -= 8;
		}
		for (int i = 0; i < 8; i++) {
			struct sbyte *b = stk_byte(s, s->rsp + i);

			if (!b) {
				sim_fail(s, in, "stack access out of the tracked window");
				return;
			}
			if (in->id == X86_INS_PUSH)
				*b = v[i];
			else
				v[i] = *b;
		}
		if (in->id == X86_INS_POP) {
			sim_write(s, in, d, 8, v, 0);
			s->rsp += 8;
		}
		return;
	case X86_INS_SUB:
	case X86_INS_ADD:
		if (d->type == X86_OP_REG && d->reg == X86_REG_RSP && src->type == X86_OP_IMM) {
			s->rsp += in->id == X86_INS_SUB ? -src->imm : src->imm;
			return;
		}
		break;
	case X86_INS_CALL:
		/* No register survives a call but the fixed ones. */
		for (int r = 0; r < NREGS; r++)
			if (r != REG_RSP && r != REG_R14 && r != REG_X(15))
				for (int i = 0; i < 16; i++)
					s->reg[r][i] = unk;
		for (int r = 0; r < NGPR; r++)
			s->sp_valid[r] = false;
		return;
	default:
		break;
	}
	sim_clobber(s, cs, in);
}

/* Disassembly of one function, with details. */

struct func {
	uint64_t addr, size;
	cs_insn *insn;
	size_t n;
};

static int func_load(csh cs, const struct elfbin *b, const char *name, struct func *f)
{
	const unsigned char *code;

	memset(f, 0, sizeof(*f));
	if (!elfbin_sym(b, name, &f->addr, &f->size) || !f->size)
		return -ENOENT;
	code = elfbin_bytes(b, f->addr, f->size, false);
	if (!code)
		return -ENOENT;
	f->n = cs_disasm(cs, code, f->size, f->addr, 0, &f->insn);
	return f->n ? 0 : -EINVAL;
}

static void func_free(struct func *f)
{
	if (f->insn)
		cs_free(f->insn, f->n);
}

static uint64_t branch_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return x->op_count == 1 && x->operands[0].type == X86_OP_IMM ? (uint64_t)x->operands[0].imm
								     : 0;
}

#define I64x10                                                                                     \
	&t_int64, &t_int64, &t_int64, &t_int64, &t_int64, &t_int64, &t_int64, &t_int64, &t_int64,  \
		&t_int64
#define F64x14                                                                                     \
	&t_float64, &t_float64, &t_float64, &t_float64, &t_float64, &t_float64, &t_float64,        \
		&t_float64, &t_float64, &t_float64, &t_float64, &t_float64, &t_float64, &t_float64
#define INTx8 &t_int, &t_int, &t_int, &t_int, &t_int, &t_int, &t_int, &t_int

/* Hand derivations from abi-internal.md. */

#define MAXVALS 32

static struct goassign hp[MAXVALS], hr[MAXVALS];
static struct goframe hf;

#define ASSIGN(abi, ps, rs)                                                                        \
	goabi__assign(abi, ps, sizeof(ps) / sizeof((ps)[0]), rs, sizeof(rs) / sizeof((rs)[0]), hp, \
		      hr, &hf)

static void check_piece(const struct goassign *a, uint32_t i, uint32_t off, uint8_t size,
			uint8_t cls, uint8_t reg)
{
	const struct gopiece *p = &a->pieces[i];

	CHECK(a->in_regs && i < a->npieces, "piece %u of %u", i, a->npieces);
	CHECK(p->offset == off && p->size == size && p->cls == cls && p->reg == reg,
	      "piece %u: {%u, %u, %u, %u}, want {%u, %u, %u, %u}", i, p->offset, p->size, p->cls,
	      p->reg, off, size, cls, reg);
}

/* r1 struct { x uintptr; y [2]uintptr } */
static const struct gofield f_r1[] = {{"x", 0, &t_uintptr, false},
				      {"y", 8, &t_arr2_uintptr, false}};
static const struct gotype t_r1 = STRUCT("struct { x uintptr; y [2]uintptr }", 24, 8, f_r1);

/*
 * The document's example, func f(a1 uint8, a2 [2]uintptr, a3 uint8)
 * (r1 struct { x uintptr; y [2]uintptr }, r2 string), with amd64's registers:
 * a1 -> RAX; a2 is a non-trivial array -> stack at SP+8, 16 bytes; a3 -> RBX.
 * Arguments end at 16. Results start afresh: r1 holds an array -> stack at
 * 16 (SP+24), 24 bytes; r2 -> RAX, RBX. Results end at 40, where the spill
 * area starts (SP+48): a1 at SP+48, a3 at SP+49; 2 bytes, rounded to 8.
 */
static void test_doc_example_internal(void)
{
	const struct gotype *ps[] = {&t_uint8, &t_arr2_uintptr, &t_uint8};
	const struct gotype *rs[] = {&t_r1, &t_string};

	CHECK(ASSIGN(GOABI_REG, ps, rs) == 0, "%s", lp_lasterr());
	check_piece(&hp[0], 0, 0, 1, GOREG_INT, 0);
	CHECK(hp[0].npieces == 1 && hp[0].spill_off == 48, "a1 spill %d", hp[0].spill_off);
	CHECK(!hp[1].in_regs && hp[1].stack_off == 8, "a2 at %d", hp[1].stack_off);
	check_piece(&hp[2], 0, 0, 1, GOREG_INT, 1);
	CHECK(hp[2].spill_off == 49, "a3 spill %d", hp[2].spill_off);
	CHECK(!hr[0].in_regs && hr[0].stack_off == 24, "r1 at %d", hr[0].stack_off);
	check_piece(&hr[1], 0, 0, 8, GOREG_INT, 0);
	check_piece(&hr[1], 1, 8, 8, GOREG_INT, 1);
	CHECK(hf.args_size == 16 && hf.results_size == 24 && hf.spill_size == 8, "frame %u %u %u",
	      hf.args_size, hf.results_size, hf.spill_size);
}

/*
 * The same signature under ABI0 (no registers): a1 at SP+8, a2 aligned to 8
 * at SP+16, a3 at SP+32; arguments end at 25, rounded to 32. r1 at 32
 * (SP+40), r2 at 56 (SP+64); results end at 72: 40 bytes. No spill area.
 */
static void test_doc_example_abi0(void)
{
	const struct gotype *ps[] = {&t_uint8, &t_arr2_uintptr, &t_uint8};
	const struct gotype *rs[] = {&t_r1, &t_string};

	CHECK(ASSIGN(GOABI_STACK, ps, rs) == 0, "%s", lp_lasterr());
	CHECK(hp[0].stack_off == 8 && hp[1].stack_off == 16 && hp[2].stack_off == 32,
	      "args at %d %d %d", hp[0].stack_off, hp[1].stack_off, hp[2].stack_off);
	CHECK(hr[0].stack_off == 40 && hr[1].stack_off == 64, "results at %d %d", hr[0].stack_off,
	      hr[1].stack_off);
	for (int i = 0; i < 3; i++)
		CHECK(!hp[i].in_regs && hp[i].npieces == 0, "arg %d in registers", i);
	CHECK(!hr[0].in_regs && !hr[1].in_regs, "results in registers");
	CHECK(hf.args_size == 32 && hf.results_size == 40 && hf.spill_size == 0, "frame %u %u %u",
	      hf.args_size, hf.results_size, hf.spill_size);
}

/*
 * Pieces carry the scalar's offset in the value's memory layout:
 * func(n int, s string, x S, c complex64): n -> RAX; s -> RBX {0}, RCX {8};
 * x.A -> RDI {0, 1 byte}, x.B -> X0 {8}; c -> X1 {0, 4 bytes}, X2 {4}.
 * Spill slots: n 0, s 8, x 24, c 40 (complex64 aligns to 4), from SP+8.
 */
static void test_pieces_follow_memory_layout(void)
{
	const struct gotype *ps[] = {&t_int, &t_string, &t_S, &t_complex64};
	const struct gotype *rs[] = {&t_S};

	CHECK(ASSIGN(GOABI_REG, ps, rs) == 0, "%s", lp_lasterr());
	check_piece(&hp[1], 0, 0, 8, GOREG_INT, 1);
	check_piece(&hp[1], 1, 8, 8, GOREG_INT, 2);
	check_piece(&hp[2], 0, 0, 1, GOREG_INT, 3);
	check_piece(&hp[2], 1, 8, 8, GOREG_FLOAT, 0);
	check_piece(&hp[3], 0, 0, 4, GOREG_FLOAT, 1);
	check_piece(&hp[3], 1, 4, 4, GOREG_FLOAT, 2);
	CHECK(hp[0].spill_off == 8 && hp[1].spill_off == 16 && hp[2].spill_off == 32 &&
		      hp[3].spill_off == 48,
	      "spills %d %d %d %d", hp[0].spill_off, hp[1].spill_off, hp[2].spill_off,
	      hp[3].spill_off);
	check_piece(&hr[0], 0, 0, 1, GOREG_INT, 0);
	check_piece(&hr[0], 1, 8, 8, GOREG_FLOAT, 0);
	CHECK(hf.args_size == 0 && hf.results_size == 0 && hf.spill_size == 48, "frame %u %u %u",
	      hf.args_size, hf.results_size, hf.spill_size);
}

/*
 * A value that does not fit the registers left goes whole to the stack and
 * gives back what it took; later values still use registers. Eight ints take
 * RAX..R10; the string needs two and gets the stack (SP+8, 16 bytes); the
 * int8 still gets R11. Fourteen floats take X0..X13; the complex128 needs two
 * and goes to the stack (SP+24); the float32 gets X14. Arguments end at 32.
 * Of ten int64 results, nine take RAX..R11 and the tenth goes to the stack
 * at 32 (SP+40). The spill area starts at 40 (SP+48): ints at 0..63, int8
 * at 64, floats at 72..183, float32 at 184; 188 bytes, rounded to 192.
 */
static void test_overflow_rolls_back(void)
{
	const struct gotype *ps[] = {INTx8, &t_string, &t_int8, F64x14, &t_complex128, &t_float32};
	const struct gotype *rs[] = {I64x10};

	CHECK(ASSIGN(GOABI_REG, ps, rs) == 0, "%s", lp_lasterr());
	check_piece(&hp[7], 0, 0, 8, GOREG_INT, 7);
	CHECK(!hp[8].in_regs && hp[8].stack_off == 8, "string at %d", hp[8].stack_off);
	check_piece(&hp[9], 0, 0, 1, GOREG_INT, 8);
	check_piece(&hp[23], 0, 0, 8, GOREG_FLOAT, 13);
	CHECK(!hp[24].in_regs && hp[24].stack_off == 24, "complex at %d", hp[24].stack_off);
	check_piece(&hp[25], 0, 0, 4, GOREG_FLOAT, 14);
	CHECK(hp[0].spill_off == 48 && hp[9].spill_off == 112 && hp[10].spill_off == 120 &&
		      hp[25].spill_off == 232,
	      "spills %d %d %d %d", hp[0].spill_off, hp[9].spill_off, hp[10].spill_off,
	      hp[25].spill_off);
	check_piece(&hr[8], 0, 0, 8, GOREG_INT, 8);
	CHECK(!hr[9].in_regs && hr[9].stack_off == 40, "result 9 at %d", hr[9].stack_off);
	CHECK(hf.args_size == 32 && hf.results_size == 8 && hf.spill_size == 192, "frame %u %u %u",
	      hf.args_size, hf.results_size, hf.spill_size);
}

/*
 * Zero-sized values take no register and go to the stack, where their
 * alignment still counts: func([2]int8, [0]int64, [2]int8, struct{}, int16)
 * puts the first array at SP+8, the [0]int64 at SP+16 (aligned to 8), the
 * second array at SP+16 too, struct{} at SP+18, and the int16 in RAX.
 * Arguments end at 10, rounded to 16; the int16 spills at SP+24.
 */
static void test_zero_sized_values(void)
{
	const struct gotype *ps[] = {&t_arr2_int8, &t_arr0_int64, &t_arr2_int8, &t_empty, &t_int16};
	const struct gotype *rs[] = {&t_empty, &t_int8};

	CHECK(ASSIGN(GOABI_REG, ps, rs) == 0, "%s", lp_lasterr());
	CHECK(hp[0].stack_off == 8 && hp[1].stack_off == 16 && hp[2].stack_off == 16 &&
		      hp[3].stack_off == 18,
	      "stack args at %d %d %d %d", hp[0].stack_off, hp[1].stack_off, hp[2].stack_off,
	      hp[3].stack_off);
	for (int i = 0; i < 4; i++)
		CHECK(!hp[i].in_regs, "arg %d in registers", i);
	check_piece(&hp[4], 0, 0, 2, GOREG_INT, 0);
	CHECK(hp[4].spill_off == 24, "spill %d", hp[4].spill_off);
	CHECK(!hr[0].in_regs && hr[0].stack_off == 24, "struct{} result at %d", hr[0].stack_off);
	check_piece(&hr[1], 0, 0, 1, GOREG_INT, 0);
	CHECK(hf.args_size == 16 && hf.results_size == 0 && hf.spill_size == 8, "frame %u %u %u",
	      hf.args_size, hf.results_size, hf.spill_size);
}

/* An array of length 2 forbids registers even with zero-sized elements. */
static void test_nontrivial_array_in_struct(void)
{
	const struct gotype *ps[] = {&t_ZeroArr, &t_TrailZero};
	const struct gotype *rs[] = {&t_arr1_float64};

	CHECK(ASSIGN(GOABI_REG, ps, rs) == 0, "%s", lp_lasterr());
	CHECK(!hp[0].in_regs && hp[0].stack_off == 8, "ZeroArr at %d", hp[0].stack_off);
	/*
	 * TrailZero: A in RAX, B is nothing; its spill slot is all 16 bytes, at
	 * the start of the spill area: ZeroArr ends the arguments at 8 (SP+16).
	 */
	check_piece(&hp[1], 0, 0, 8, GOREG_INT, 0);
	CHECK(hp[1].npieces == 1 && hp[1].spill_off == 16, "TrailZero %u pieces, spill %d",
	      hp[1].npieces, hp[1].spill_off);
	check_piece(&hr[0], 0, 0, 8, GOREG_FLOAT, 0);
	CHECK(hf.spill_size == 16, "spill size %u", hf.spill_size);
}

static const struct gotype t_int24 = SCALAR(GK_INT, "int24", 3, 1);
static const struct gotype t_opaque = {GK_STRUCT, "main.Opaque", 8, 8, NULL, NULL, 0, 0, NULL};
static const struct gotype t_bad_arr = {GK_ARRAY, "[1]int", 4, 8, &t_int, NULL, 1, 0, NULL};
static const struct gofield f_bad_field[] = {{"A", 8, &t_int64, false}};
static const struct gotype t_bad_field = STRUCT("main.Bad", 8, 8, f_bad_field);

static void test_rejects_invalid_types(void)
{
	const struct gotype *bad[] = {NULL, &t_int24, &t_opaque, &t_bad_arr, &t_bad_field};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lp_clearerr();
		CHECK(goabi__assign(GOABI_REG, &bad[i], 1, NULL, 0, hp, hr, &hf) == -EINVAL,
		      "bad type %zu accepted", i);
		CHECK(lp_lasterr()[0], "bad type %zu: no message", i);
	}
	CHECK_STR(lp_lasterr(), "field A of type main.Bad lies outside it");
	CHECK(goabi__assign(GOABI_REG, bad, 0, &bad[1], 1, hp, hr, &hf) == -EINVAL,
	      "bad result accepted");
	CHECK_STR(lp_lasterr(), "type int24 has size 3, impossible for its kind");
	CHECK(goabi__assign((enum goabi)7, NULL, 0, NULL, 0, hp, hr, &hf) == -EINVAL,
	      "unknown ABI accepted");
	/* Under ABI0 nothing looks inside a value: an opaque struct is fine. */
	CHECK(goabi__assign(GOABI_STACK, &bad[2], 1, NULL, 0, hp, hr, &hf) == 0, "%s",
	      lp_lasterr());
}

static void test_reg_names(void)
{
	CHECK_STR(goabi__reg_name(GOREG_INT, 0), "RAX");
	CHECK_STR(goabi__reg_name(GOREG_INT, 3), "RDI");
	CHECK_STR(goabi__reg_name(GOREG_INT, 8), "R11");
	CHECK_STR(goabi__reg_name(GOREG_INT, 9), "?");
	CHECK_STR(goabi__reg_name(GOREG_FLOAT, 0), "X0");
	CHECK_STR(goabi__reg_name(GOREG_FLOAT, 14), "X14");
	CHECK_STR(goabi__reg_name(GOREG_FLOAT, 15), "?");
}

/* The functions of tests/go/abi and what their callers pass. */

struct val {
	char kind; /* 'i' integer, 'f' float, 's' symbol + addend, 'a' any constant, '-' unchecked
		    */
	int64_t i;
	double f;
	const char *sym;
};

#define VI(x)                                                                                      \
	{                                                                                          \
		'i', (x), 0, NULL                                                                  \
	}
#define VF(x)                                                                                      \
	{                                                                                          \
		'f', 0, (x), NULL                                                                  \
	}
#define VS(s, add)                                                                                 \
	{                                                                                          \
		's', (add), 0, (s)                                                                 \
	}
#define VANY                                                                                       \
	{                                                                                          \
		'a', 0, 0, NULL                                                                    \
	}
#define VSKIP                                                                                      \
	{                                                                                          \
		'-', 0, 0, NULL                                                                    \
	}

struct fcase {
	const char *callee; /* symbol of F */
	const char *caller; /* symbol of cF */
	const char *rglob;  /* results go to <rglob>_<i>, for the i that exist */
	enum goabi abi;
	size_t np, nr;
	const struct gotype *params[MAXVALS];
	const struct gotype *results[MAXVALS];
	struct val vals[2 * MAXVALS]; /* every leaf of every parameter, in order */
};

/* One line per function: callee, caller, result globals, ABI, #params, #results. */
// clang-format off
static const struct fcase cases[] = {
	{"main.ints", "main.cInts", "main.rInts", GOABI_REG, 9, 4,
	 {&t_int8, &t_int16, &t_int32, &t_int64, &t_uint8, &t_uint16, &t_uint32, &t_uint64, &t_int},
	 {&t_int8, &t_uint16, &t_int32, &t_uint64},
	 {VI(-3), VI(1001), VI(100002), VI(100003), VI(4), VI(1005), VI(100006), VI(100007),
	  VI(100008)}},
	{"main.misc", "main.cMisc", "main.rMisc", GOABI_REG, 7, 2,
	 {&t_bool, &t_ptr_int64, &t_unsafeptr, &t_uintptr, &t_map, &t_chan, &t_func},
	 {&t_bool, &t_uintptr},
	 {VI(1), VS("main.gX", 0), VS("main.gY", 0), VI(0x1234), VI(0), VI(0), VI(0)}},
	{"main.mixed", "main.cMixed", "main.rMixed", GOABI_REG, 6, 4,
	 {&t_int, &t_float64, &t_int8, &t_float32, &t_uint16, &t_float64},
	 {&t_float32, &t_int16, &t_float64, &t_bool},
	 {VI(100001), VF(1.25), VI(3), VF(2.5), VI(1004), VF(3.75)}},
	{"main.strs", "main.cStrs", "main.rStrs", GOABI_REG, 4, 2,
	 {&t_string, &t_bytes, &t_error, &t_any},
	 {&t_string, &t_bytes},
	 {VANY, VI(5), VS("main.gBuf", 1), VI(3), VI(7), VS("go.itab.*main.myErr,error", 0),
	  VS("main.gErr", 0), VANY, VS("main.gX", 0)}},
	{"main.small", "main.cSmall", "main.rSmall", GOABI_REG, 1, 1,
	 {&t_S}, {&t_S}, {VI(5), VF(6.5)}},
	{"main.nested", "main.cNested", "main.rNested", GOABI_REG, 2, 1,
	 {&t_N, &t_float32}, {&t_N},
	 {VI(1001), VI(100002), VF(3.5), VS("main.gY", 0), VI(100004), VF(0.75)}},
	{"main.arrays", "main.cArrays", "main.rArrays", GOABI_REG, 5, 3,
	 {&t_arr0_int, &t_arr1_int, &t_arr2_int, &t_int8, &t_arr1_float64},
	 {&t_arr1_int32, &t_arr2_int16, &t_arr0_int},
	 {VI(100001), VI(100002), VI(100003), VI(4), VF(5.5)}},
	{"main.zpad", "main.cZpad", "main.rZpad", GOABI_REG, 4, 1,
	 {&t_arr2_int8, &t_arr0_int64, &t_arr2_int8, &t_int16}, {&t_int16},
	 {VI(1), VI(2), VI(3), VI(4), VI(1005)}},
	{"main.unalignedRes", "main.cUnalignedRes", "main.rUnalignedRes", GOABI_REG, 2, 2,
	 {&t_arr3_int8, &t_int8}, {&t_arr2_int16, &t_int8},
	 {VI(1), VI(2), VI(3), VI(4)}},
	{"main.cplx", "main.cCplx", "main.rCplx", GOABI_REG, 3, 2,
	 {&t_complex128, &t_complex64, &t_int}, {&t_complex64, &t_complex128},
	 {VF(1.5), VF(2.5), VF(3.5), VF(4.5), VI(100005)}},
	{"main.manyInts", "main.cManyInts", "main.rManyInts", GOABI_REG, 10, 10,
	 {I64x10}, {I64x10},
	 {VI(100001), VI(100002), VI(100003), VI(100004), VI(100005), VI(100006), VI(100007),
	  VI(100008), VI(100009), VI(100010)}},
	{"main.strOverflow", "main.cStrOverflow", "main.rStrOverflow", GOABI_REG, 10, 10,
	 {INTx8, &t_string, &t_int8}, {INTx8, &t_string, &t_int8},
	 {VI(100001), VI(100002), VI(100003), VI(100004), VI(100005), VI(100006), VI(100007),
	  VI(100008), VANY, VI(8), VI(9)}},
	{"main.manyFloats", "main.cManyFloats", "main.rManyFloats", GOABI_REG, 16, 16,
	 {F64x14, &t_float64, &t_float64}, {F64x14, &t_float64, &t_float64},
	 {VF(1.5), VF(2.5), VF(3.5), VF(4.5), VF(5.5), VF(6.5), VF(7.5), VF(8.5), VF(9.5),
	  VF(10.5), VF(11.5), VF(12.5), VF(13.5), VF(14.5), VF(15.5), VF(16.5)}},
	{"main.cplxOverflow", "main.cCplxOverflow", "main.rCplxOverflow", GOABI_REG, 16, 2,
	 {F64x14, &t_complex128, &t_float32}, {&t_complex128, &t_float32},
	 {VF(1.5), VF(2.5), VF(3.5), VF(4.5), VF(5.5), VF(6.5), VF(7.5), VF(8.5), VF(9.5),
	  VF(10.5), VF(11.5), VF(12.5), VF(13.5), VF(14.5), VF(15.5), VF(16.5), VF(17.5)}},
	{"main.bigStruct", "main.cBigStruct", "main.rBigStruct", GOABI_REG, 2, 2,
	 {&t_Big, &t_int}, {&t_Big, &t_int},
	 {VI(1001), VI(1002), VI(1003), VI(1004), VI(1005), VI(1006), VI(1007), VI(1008),
	  VI(1009), VI(1010), VI(100011)}},
	{"main.zeroArr", "main.cZeroArr", "main.rZeroArr", GOABI_REG, 2, 2,
	 {&t_ZeroArr, &t_int8}, {&t_ZeroArr, &t_int8}, {VI(100001), VI(2)}},
	{"main.trailZero", "main.cTrailZero", "main.rTrailZero", GOABI_REG, 2, 2,
	 {&t_TrailZero, &t_int8}, {&t_TrailZero, &t_int8}, {VI(100001), VI(2)}},
	{"main.T.Val", "main.cVal", "main.rVal", GOABI_REG, 2, 1,
	 {&t_T, &t_int8}, {&t_int64}, {VI(100001), VANY, VI(3), VI(2)}},
	/* The receiver is cPtr's own argument: not a constant. */
	{"main.(*T).Ptr", "main.cPtr", "main.rPtr", GOABI_REG, 3, 2,
	 {&t_ptr_T, &t_float64, &t_int}, {&t_float64, &t_int},
	 {VSKIP, VF(1.5), VI(100002)}},
	{"main.asm1.abi0", "main.cAsm1", "main.rAsm1", GOABI_STACK, 6, 3,
	 {&t_int8, &t_int64, &t_int16, &t_string, &t_float32, &t_arr2_int8},
	 {&t_int32, &t_float64, &t_int8},
	 {VI(1), VI(100002), VI(1003), VANY, VI(3), VF(4.5), VI(5), VI(6)}},
	{"main.asm2.abi0", "main.cAsm2", "main.rAsm2", GOABI_STACK, 3, 3,
	 {&t_S, &t_complex64, &t_bool}, {&t_S, &t_arr0_int64, &t_uint16},
	 {VI(1), VF(2.5), VF(3.5), VF(4.5), VI(1)}},
	{"main.asm3.abi0", "main.cAsm3", "main.rAsm3", GOABI_STACK, 1, 1,
	 {&t_int8}, {&t_int8}, {VI(-7)}},
};
// clang-format on

/* "go.itab.*main.myErr,error" as newer releases (Go 1.26 here) name it: "go:itab...". */
static const char *go_colon(const char *sym)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s", sym);
	if (strncmp(buf, "go.", 3) == 0)
		buf[2] = ':';
	return buf;
}

/* Whether the bytes b hold value v for a leaf of the given size. */
static bool val_matches(const struct elfbin *bin, const struct val *v, int size,
			const struct sbyte *b, char *why, size_t whylen)
{
	uint64_t want = 0, addr, symsize;
	int i;

	switch (v->kind) {
	case '-':
		return true;
	case 'a':
		for (i = 0; i < size; i++)
			if (b[i].kind != SB_CONST) {
				snprintf(why, whylen, "byte %d is not a constant", i);
				return false;
			}
		return true;
	case 'i':
		want = (uint64_t)v->i;
		break;
	case 'f':
		if (size == 4) {
			float f = (float)v->f;
			uint32_t u;

			memcpy(&u, &f, 4);
			want = u;
		} else {
			memcpy(&want, &v->f, 8);
		}
		break;
	case 's':
		if (!elfbin_sym(bin, v->sym, &addr, &symsize) &&
		    !elfbin_sym(bin, go_colon(v->sym), &addr, &symsize)) {
			snprintf(why, whylen, "no symbol %s", v->sym);
			return false;
		}
		want = addr + (uint64_t)v->i;
		break;
	}
	for (i = 0; i < size; i++)
		if (b[i].kind != SB_CONST || b[i].val != (uint8_t)(want >> (8 * i))) {
			snprintf(why, whylen, "byte %d is %s%#x, want %#x", i,
				 b[i].kind == SB_CONST ? "" : "not a constant, ", b[i].val,
				 (uint8_t)(want >> (8 * i)));
			return false;
		}
	return true;
}

static const struct gopiece *piece_at(const struct goassign *a, uint32_t off)
{
	for (uint32_t i = 0; i < a->npieces; i++)
		if (a->pieces[i].offset == off)
			return &a->pieces[i];
	return NULL;
}

/* Check 1: the morestack path of F stores each register argument to its spill slot. */
static void check_spills(csh cs, const struct fcase *c, const struct func *f,
			 const struct goassign *pa)
{
	struct {
		int reg, size;
		int64_t off;
		bool seen;
	} want[GOABI_NINTREG + GOABI_NFLOATREG];
	size_t nwant = 0, i, start = f->n, nstores = 0;
	uint64_t target = 0;

	for (i = 0; i < c->np; i++)
		for (uint32_t k = 0; pa[i].in_regs && k < pa[i].npieces; k++) {
			const struct gopiece *p = &pa[i].pieces[k];

			want[nwant].reg = piece_regno(p);
			want[nwant].size = p->size;
			want[nwant].off = pa[i].spill_off + p->offset;
			want[nwant++].seen = false;
		}

	/* The stack check is the first conditional branch; it goes to the spill path. */
	for (i = 0; i < f->n && i < 8 && !target; i++)
		if (cs_insn_group(cs, &f->insn[i], CS_GRP_JUMP) && f->insn[i].id != X86_INS_JMP)
			target = branch_target(&f->insn[i]);
	for (i = 0; i < f->n && target; i++)
		if (f->insn[i].address == target)
			start = i;
	CHECK(start < f->n, "%s: no stack-check branch to a morestack path", c->callee);

	for (i = start; i < f->n && f->insn[i].id != X86_INS_CALL; i++) {
		const cs_insn *in = &f->insn[i];
		const cs_x86 *x = &in->detail->x86;
		struct regref r;
		size_t k;

		if (in->id == X86_INS_NOP)
			continue;
		if (x->op_count != 2 || x->operands[0].type != X86_OP_MEM ||
		    x->operands[0].mem.base != X86_REG_RSP || x->operands[1].type != X86_OP_REG) {
			CHECK(0, "%s: %s %s in the spill path is not a spill", c->callee,
			      in->mnemonic, in->op_str);
			continue;
		}
		r = reg_ref(x->operands[1].reg);
		nstores++;
		for (k = 0; k < nwant; k++)
			if (want[k].reg == r.no && want[k].size == x->operands[0].size &&
			    want[k].off == x->operands[0].mem.disp && !want[k].seen)
				break;
		CHECK(k < nwant,
		      "%s: compiler spills %s (%d bytes) to SP+%#llx; the model has no "
		      "such piece",
		      c->callee, cs_reg_name(cs, x->operands[1].reg), x->operands[0].size,
		      (unsigned long long)x->operands[0].mem.disp);
		if (k < nwant)
			want[k].seen = true;
	}
	CHECK(i < f->n, "%s: spill path has no CALL runtime.morestack", c->callee);
	for (size_t k = 0; k < nwant; k++)
		CHECK(want[k].seen,
		      "%s: the model spills reg #%d (%d bytes) to SP+%#llx; the compiler "
		      "does not",
		      c->callee, want[k].reg, want[k].size, (unsigned long long)want[k].off);
	CHECK(nstores == nwant, "%s: %zu spills, model has %zu pieces", c->callee, nstores, nwant);
}

/* Check 2: what the caller leaves in registers and on the stack at CALL F. */
static void check_args(const struct elfbin *bin, const struct fcase *c, const struct sim *s,
		       const struct goassign *pa)
{
	struct leaf lv[MAXLEAVES];
	size_t vi = 0;
	char why[96];

	for (size_t i = 0; i < c->np; i++) {
		int n = leaves_of(c->params[i], 0, lv, 0);

		if (pa[i].in_regs)
			CHECK(pa[i].npieces == (uint32_t)n, "%s arg %zu: %u pieces for %d scalars",
			      c->callee, i, pa[i].npieces, n);
		for (int k = 0; k < n; k++, vi++) {
			const struct val *v = &c->vals[vi];
			struct sbyte b[8];

			if (pa[i].in_regs) {
				const struct gopiece *p = piece_at(&pa[i], lv[k].off);

				CHECK(p && p->size == lv[k].size, "%s arg %zu: no piece at +%u",
				      c->callee, i, lv[k].off);
				if (!p)
					continue;
				memcpy(b, s->reg[piece_regno(p)], sizeof(b));
				CHECK(val_matches(bin, v, p->size, b, why, sizeof(why)),
				      "%s arg %zu +%u in %s: %s", c->callee, i, lv[k].off,
				      goabi__reg_name(p->cls, p->reg), why);
			} else {
				/* The caller's SP at the CALL is F's entry SP + 8. */
				int64_t at = s->rsp + pa[i].stack_off - 8 + lv[k].off;

				for (int j = 0; j < lv[k].size; j++) {
					const struct sbyte *sb =
						(at + j >= -STK_SPAN && at + j < STK_SPAN)
							? &s->stk[at + j + STK_SPAN]
							: &unk;
					b[j] = *sb;
				}
				CHECK(val_matches(bin, v, lv[k].size, b, why, sizeof(why)),
				      "%s arg %zu +%u at SP+%d: %s", c->callee, i, lv[k].off,
				      pa[i].stack_off + (int)lv[k].off, why);
			}
		}
	}
	CHECK(c->vals[vi].kind == 0, "%s: more values than scalars", c->callee);
}

/* Check 3: where the caller finds each result after the CALL. */
/* Where a byte came from, for messages: "rbx byte 1", "entry SP+24", "0x2a". */
static const char *sb_describe(struct sbyte b, char *buf, size_t len)
{
	static const char *const names[NGPR] = {"rax", "rbx", "rcx", "rdi", "rsi", "r8",
						"r9",  "r10", "r11", "rdx", "rsp", "rbp",
						"r12", "r13", "r14", "r15"};

	switch (b.kind) {
	case SB_CONST:
		snprintf(buf, len, "constant %#x", b.val);
		break;
	case SB_REG:
		if (b.reg < NGPR)
			snprintf(buf, len, "%s byte %d", names[b.reg], b.off);
		else
			snprintf(buf, len, "xmm%d byte %d", b.reg - NGPR, b.off);
		break;
	case SB_STK:
		/* A post-call simulation starts at F's entry SP + 8. */
		snprintf(buf, len, "entry SP+%d", b.off + 8);
		break;
	default:
		snprintf(buf, len, "unknown");
		break;
	}
	return buf;
}

/* Check 3: where the caller finds each result after the CALL. */
static void check_results(const struct elfbin *bin, const struct fcase *c, const struct sim *s,
			  const struct goassign *ra)
{
	struct leaf lv[MAXLEAVES];
	size_t checked = 0;

	for (size_t i = 0; i < c->nr; i++) {
		char gname[64], gbuf[32], wbuf[32];
		uint64_t gaddr, gsize;
		int n;

		snprintf(gname, sizeof(gname), "%s_%zu", c->rglob, i);
		if (!elfbin_sym(bin, gname, &gaddr, &gsize))
			continue;
		checked++;
		n = leaves_of(c->results[i], 0, lv, 0);
		for (int k = 0; k < n; k++) {
			const struct gopiece *p =
				ra[i].in_regs ? piece_at(&ra[i], lv[k].off) : NULL;
			int j;

			CHECK(!ra[i].in_regs || (p && p->size == lv[k].size),
			      "%s result %zu: no piece at +%u", c->callee, i, lv[k].off);
			if (ra[i].in_regs && !p)
				continue;
			for (j = 0; j < lv[k].size; j++) {
				struct sbyte got = glob_get(s, gaddr + lv[k].off + j), want;

				if (p)
					want = (struct sbyte){SB_REG, (uint8_t)piece_regno(p), 0,
							      j};
				else
					want = (struct sbyte){SB_STK, 0, 0,
							      ra[i].stack_off - 8 + (int)lv[k].off +
								      j};
				if (!sb_eq(got, want)) {
					CHECK(0,
					      "%s result %zu +%u byte %d: compiler copies %s, "
					      "model says %s",
					      c->callee, i, lv[k].off, j,
					      sb_describe(got, gbuf, sizeof(gbuf)),
					      sb_describe(want, wbuf, sizeof(wbuf)));
					break;
				}
			}
		}
	}
	CHECK(checked > 0, "%s: no result global %s_N", c->callee, c->rglob);
}

static void check_case(csh cs, const struct elfbin *bin, const struct fcase *c)
{
	struct goassign pa[MAXVALS], ra[MAXVALS];
	struct goframe fr;
	struct func callee, caller;
	struct sim *s = malloc(sizeof(*s));
	size_t i, call = 0;
	int err;

	err = goabi__assign(c->abi, c->params, c->np, c->results, c->nr, pa, ra, &fr);
	CHECK(err == 0, "%s: goabi__assign: %d %s", c->callee, err, lp_lasterr());
	if (func_load(cs, bin, c->callee, &callee) || func_load(cs, bin, c->caller, &caller)) {
		CHECK(0, "%s or %s: not found in %s", c->callee, c->caller, ABI_BIN);
		goto out;
	}

	if (c->abi == GOABI_REG)
		check_spills(cs, c, &callee, pa);

	for (call = 0; call < caller.n; call++)
		if (caller.insn[call].id == X86_INS_CALL &&
		    branch_target(&caller.insn[call]) == callee.addr)
			break;
	CHECK(call < caller.n, "%s: %s does not call it", c->callee, c->caller);
	if (call == caller.n)
		goto out;

	sim_init(s, bin, false);
	for (i = 0; i < call; i++)
		sim_step(s, cs, &caller.insn[i]);
	CHECK(!s->err[0], "%s: before the call: %s", c->caller, s->err);
	check_args(bin, c, s, pa);

	sim_init(s, bin, true);
	for (i = call + 1; i < caller.n; i++) {
		if (caller.insn[i].id == X86_INS_CALL || caller.insn[i].id == X86_INS_RET)
			break;
		sim_step(s, cs, &caller.insn[i]);
	}
	CHECK(!s->err[0], "%s: after the call: %s", c->caller, s->err);
	check_results(bin, c, s, ra);
out:
	func_free(&callee);
	func_free(&caller);
	free(s);
}

static void test_matches_go_compiler(void)
{
	struct elfbin bin;
	csh cs;

	if (access(ABI_BIN, R_OK)) {
		SKIP("%s absent (run: OUTPUT=.output tests/go/build.sh)", ABI_BIN);
	}
	if (elfbin_open(&bin, ABI_BIN) || cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		CHECK(0, "cannot read %s with its symbol table", ABI_BIN);
		elfbin_close(&bin);
		return;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(cs, &bin, &cases[i]);
	cs_close(&cs);
	elfbin_close(&bin);
}

int main(void)
{
	RUN(test_doc_example_internal);
	RUN(test_doc_example_abi0);
	RUN(test_pieces_follow_memory_layout);
	RUN(test_overflow_rolls_back);
	RUN(test_zero_sized_values);
	RUN(test_nontrivial_array_in_struct);
	RUN(test_rejects_invalid_types);
	RUN(test_reg_names);
	RUN(test_matches_go_compiler);
	return unit_summary();
}
