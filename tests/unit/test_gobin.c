// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Go binary inspector checked against the Go toolchain's own view of the
 * same files: `go tool nm` (.symtab), debug/gosym (through a small helper
 * built on first use), DWARF (libdw), and hand-damaged copies.
 *
 * Fixtures: .output/go/computee/<variant> (tests/go/build.sh; or the set of
 * another toolchain, see gotarget()) and the real binaries of other Go
 * releases in .cache/gobins (tests/gobins.sh). The go command on PATH is the
 * one that built the set. Tests SKIP when a fixture or the go command is
 * missing.
 */
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gobin.h"
#include "log.h"
#include "unit.h"

#define COMPUTEE(v)	      gotarget("computee/" v)
#define DW_AT_go_runtime_type 0x2904
#define KIND_POINTER	      22
#define KIND_STRING	      24

/* Helpers */

static bool exists(const char *path)
{
	return access(path, R_OK) == 0;
}

static bool have_go(void)
{
	static int have = -1;

	if (have < 0)
		have = system("go version >/dev/null 2>&1") == 0;
	return have;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

static bool write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (!f)
		return false;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* File offset and size of a section, read independently of gobin. */
/* Set the size in the section header of section name. */
static bool set_section_size(char *data, size_t len, const char *name, uint64_t size)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, str;

	memcpy(&eh, data, sizeof(eh));
	memcpy(&str, data + eh.e_shoff + eh.e_shstrndx * sizeof(sh), sizeof(sh));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		char *h = data + eh.e_shoff + i * sizeof(sh);

		memcpy(&sh, h, sizeof(sh));
		if (str.sh_offset + sh.sh_name < len &&
		    strcmp(data + str.sh_offset + sh.sh_name, name) == 0) {
			sh.sh_size = size;
			memcpy(h, &sh, sizeof(sh));
			return true;
		}
	}
	return false;
}

static bool elf_section(const char *data, size_t len, const char *name, uint64_t *off,
			uint64_t *size)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, str;

	if (len < sizeof(eh))
		return false;
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(sh) > len || eh.e_shstrndx >= eh.e_shnum)
		return false;
	memcpy(&str, data + eh.e_shoff + eh.e_shstrndx * sizeof(sh), sizeof(sh));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, data + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (str.sh_offset + sh.sh_name < len &&
		    strcmp(data + str.sh_offset + sh.sh_name, name) == 0) {
			*off = sh.sh_offset;
			*size = sh.sh_size;
			return true;
		}
	}
	return false;
}

static uint64_t elf_entry(const char *path)
{
	Elf64_Ehdr eh;
	FILE *f = fopen(path, "rb");
	uint64_t e = 0;

	if (f && fread(&eh, sizeof(eh), 1, f) == 1)
		e = eh.e_entry;
	if (f)
		fclose(f);
	return e;
}

/*
 * Names as both sides can agree on them. Go 1.18-1.20 linkers shorten every
 * bracketed list in pclntab names to "[...]" (".symtab" keeps "[5]int" or the
 * instantiation), and write the middle dot of local-type names "·" as "." in
 * .symtab. Collapse both sides the same way.
 */
static void norm_name(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	int depth = 0;

	for (const char *p = in; *p && o + 6 < cap; p++) {
		if (*p == '[') {
			if (depth++ == 0) {
				memcpy(out + o, "[...]", 5);
				o += 5;
			}
		} else if (*p == ']' && depth > 0) {
			depth--;
		} else if (depth == 0) {
			if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xb7) {
				out[o++] = '.';
				p++;
			} else {
				out[o++] = *p;
			}
		}
	}
	out[o] = '\0';
}

struct fent {
	char *name;
	uint64_t addr;
};

static int fent_cmp(const void *a, const void *b)
{
	const struct fent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void fents_free(struct fent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static bool fents_push(struct fent **v, size_t *n, size_t *cap, const char *name, uint64_t addr)
{
	char buf[4096];

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct fent *nv = realloc(*v, nc * sizeof(**v));

		if (!nv)
			return false;
		*v = nv;
		*cap = nc;
	}
	norm_name(name, buf, sizeof(buf));
	(*v)[*n].name = strdup(buf);
	(*v)[*n].addr = addr;
	return (*v)[(*n)++].name != NULL;
}

/*
 * The Go functions `go tool nm` lists for a binary with .symtab. Comparable
 * symbols are the text symbols (T/t) inside [runtime.text, runtime.etext):
 * that range is exactly what the pclntab describes, which leaves out the C
 * code of cgo builds and the linker's range markers themselves. Since Go
 * 1.17, .symtab names ABI0 functions "name.abi0" where the pclntab says
 * "name"; the suffix is dropped.
 */
static size_t nm_funcs(const char *path, struct fent **out)
{
	char cmd[1024], line[8192];
	struct fent *raw = NULL;
	size_t n = 0, cap = 0, kept = 0;
	uint64_t text = 0, etext = 0;
	FILE *p;

	*out = NULL;
	snprintf(cmd, sizeof(cmd), "go tool nm -size '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		unsigned long addr, size;
		char type;
		int used = 0;
		char *name;

		if (sscanf(line, "%lx %lu %c %n", &addr, &size, &type, &used) != 3 || !used)
			continue;
		name = line + used;
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, "runtime.text") == 0)
			text = addr;
		else if (strcmp(name, "runtime.etext") == 0)
			etext = addr;
		if (type != 'T' && type != 't')
			continue;
		if (strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".abi0") == 0)
			name[strlen(name) - 5] = '\0';
		if (!fents_push(&raw, &n, &cap, name, addr))
			break;
	}
	pclose(p);
	for (size_t i = 0; i < n; i++) {
		if (raw[i].addr < text || raw[i].addr >= etext ||
		    strcmp(raw[i].name, "runtime.text") == 0) {
			free(raw[i].name);
			continue;
		}
		raw[kept++] = raw[i];
	}
	qsort(raw, kept, sizeof(*raw), fent_cmp);
	*out = raw;
	return kept;
}

static size_t table_funcs(const struct gobin *gb, struct fent **out)
{
	struct fent *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < gobin__nfuncs(gb); i++) {
		const struct gobin_func *f = gobin__func(gb, i);

		if (!fents_push(&v, &n, &cap, f->name, f->entry))
			break;
	}
	qsort(v, n, sizeof(*v), fent_cmp);
	*out = v;
	return n;
}

/* Compare two sorted lists; with names_only the addresses are ignored. */
static size_t fents_diff(const char *what, struct fent *a, size_t na, struct fent *b, size_t nb,
			 bool names_only)
{
	size_t i = 0, j = 0, diff = 0;

	while (i < na || j < nb) {
		int c;

		if (i == na)
			c = 1;
		else if (j == nb)
			c = -1;
		else if ((c = strcmp(a[i].name, b[j].name)) == 0 && !names_only)
			c = a[i].addr < b[j].addr ? -1 : a[i].addr > b[j].addr;
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (diff++ < 5) {
			const struct fent *e = c < 0 ? &a[i] : &b[j];

			fprintf(stderr, "    %s: only in %s: %s %#lx\n", what,
				c < 0 ? "go tool nm" : "gobin", e->name, (unsigned long)e->addr);
		}
		if (c < 0)
			i++;
		else
			j++;
	}
	return diff;
}

static struct gobin *open_ok(const char *path)
{
	struct gobin *gb = NULL;
	int err = gobin__open(path, &gb);

	CHECK(err == 0 && gb, "%s: gobin__open: %d: %s", path, err, lp_lasterr());
	return err ? NULL : gb;
}

/* The computee variants */

struct variant {
	const char *name, *nm_ref; /* nm_ref: unstripped build of the same code */
	bool names_only;	   /* nm_ref's addresses differ (another link mode) */
	bool pie, static_link, cgo, symtab, dwarf;
};

static const struct variant variants[] = {
	{"default", "default", false, false, true, false, true, true},
	{"stripped", "default", false, false, true, false, false, false},
	{"pie", "pie", false, true, false, false, true, true},
	{"stripped-pie", "pie", false, true, false, false, false, false},
	{"cgo", "cgo", false, false, false, true, true, true},
	/* external PIE linking lays the code out anew: only names compare */
	{"cgo-pie", "cgo", true, true, false, true, false, false},
	{"trimpath", "trimpath", false, false, true, false, true, true},
};

#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

/* What `go env GOVERSION` says, which built the computee variants. */
static const char *builder_version(void)
{
	static char v[64];
	FILE *p;

	if (v[0] || !have_go())
		return v[0] ? v : NULL;
	p = popen("go env GOVERSION 2>/dev/null", "r");
	if (p) {
		if (!fgets(v, sizeof(v), p))
			v[0] = '\0';
		v[strcspn(v, "\n")] = '\0';
		pclose(p);
	}
	return v[0] ? v : NULL;
}

static enum gobin_pcln pcln_for_minor(int minor)
{
	if (minor >= 20)
		return GOBIN_PCLN_120;
	if (minor >= 18)
		return GOBIN_PCLN_118;
	if (minor >= 16)
		return GOBIN_PCLN_116;
	return GOBIN_PCLN_12;
}

static void test_computee_info(void)
{
	char path[256];
	const char *want = builder_version();
	size_t tested = 0;

	for (size_t i = 0; i < NVARIANTS; i++) {
		const struct variant *v = &variants[i];
		const struct gobin_info *in;
		struct gobin *gb;

		snprintf(path, sizeof(path), "%s%s", COMPUTEE(""), v->name);
		if (!exists(path))
			continue;
		gb = open_ok(path);
		if (!gb)
			continue;
		tested++;
		in = gobin__info(gb);
		CHECK(in->version_from_buildinfo && in->has_buildinfo, "%s: no buildinfo", v->name);
		CHECK(strncmp(in->go_version, "go1.", 4) == 0 && in->go_major == 1 &&
			      in->go_minor >= 13,
		      "%s: version %s", v->name, in->go_version);
		if (want)
			CHECK_STR(in->go_version, want);
		CHECK(in->pcln == pcln_for_minor(in->go_minor), "%s: pcln %d for go1.%d", v->name,
		      in->pcln, in->go_minor);
		CHECK(in->regabi == (in->go_minor >= 17), "%s: regabi", v->name);
		CHECK_STR(in->arch, "amd64");
		CHECK(in->pie == v->pie, "%s: pie=%d", v->name, in->pie);
		CHECK(in->static_link == v->static_link, "%s: static=%d", v->name, in->static_link);
		CHECK(in->cgo == v->cgo, "%s: cgo=%d", v->name, in->cgo);
		CHECK(in->has_symtab == v->symtab, "%s: symtab=%d", v->name, in->has_symtab);
		CHECK(in->has_dwarf == v->dwarf, "%s: dwarf=%d", v->name, in->has_dwarf);
		CHECK_STR(in->mod_path, "luprobe.test");
		CHECK(in->build_settings &&
			      strstr(in->build_settings, "path\tluprobe.test/computee\n"),
		      "%s: build settings %s", v->name, in->build_settings);
		CHECK(in->nfuncs == gobin__nfuncs(gb) && in->nfuncs > 1000, "%s: nfuncs %zu",
		      v->name, in->nfuncs);
		CHECK(in->text_start && gobin__func(gb, 0)->entry >= in->text_start,
		      "%s: text %#lx", v->name, (unsigned long)in->text_start);
		gobin__free(gb);
	}
	if (!tested)
		SKIP("no computee variants; run: OUTPUT=.output tests/go/build.sh");
}

static void test_computee_matches_nm(void)
{
	char path[256], ref[256];
	size_t tested = 0;

	if (!have_go())
		SKIP("no go command");
	for (size_t i = 0; i < NVARIANTS; i++) {
		const struct variant *v = &variants[i];
		struct fent *nm, *tab;
		size_t nnm, ntab, diff;
		struct gobin *gb;

		snprintf(path, sizeof(path), "%s%s", COMPUTEE(""), v->name);
		snprintf(ref, sizeof(ref), "%s%s", COMPUTEE(""), v->nm_ref);
		if (!exists(path) || !exists(ref))
			continue;
		gb = open_ok(path);
		if (!gb)
			continue;
		nnm = nm_funcs(ref, &nm);
		ntab = table_funcs(gb, &tab);
		CHECK(nnm > 1000, "%s: go tool nm %s listed %zu functions", v->name, ref, nnm);
		diff = fents_diff(v->name, nm, nnm, tab, ntab, v->names_only);
		CHECK(diff == 0 && nnm == ntab, "%s: %zu differences (nm %zu, gobin %zu)", v->name,
		      diff, nnm, ntab);
		fents_free(nm, nnm);
		fents_free(tab, ntab);
		gobin__free(gb);
		tested++;
	}
	if (!tested)
		SKIP("no computee variants; run: OUTPUT=.output tests/go/build.sh");
}

static int line_of(const char *path, const char *needle)
{
	size_t len;
	char *src = read_file(path, &len), *p;
	int line = 1;

	if (!src)
		return -1;
	p = strstr(src, needle);
	if (!p) {
		free(src);
		return -1;
	}
	for (char *q = src; q < p; q++)
		line += *q == '\n';
	free(src);
	return line;
}

static bool gosym_helper(void);
static int gosym_entry_line(const char *path, const char *func);

static void test_pc_line(void)
{
	const char *file = NULL, *suffix = "tests/go/computee/main.go";
	const struct gobin_func *f, *m;
	int line = 0, want = line_of("tests/go/computee/main.go", "\nfunc computeE(") + 1;
	int entry_line = want;
	struct gobin *gb;
	uint64_t pc;

	if (!exists(COMPUTEE("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", COMPUTEE("default"));
	CHECK(want > 1, "func computeE not found in tests/go/computee/main.go");
	gb = open_ok(COMPUTEE("default"));
	if (!gb)
		return;
	f = gobin__find_func(gb, "main.computeE");
	CHECK(f != NULL, "main.computeE not found");
	if (f) {
		CHECK(gobin__pc_line(gb, f, f->entry, &file, &line) == 0, "pc_line failed");
		CHECK(file && strlen(file) >= strlen(suffix) &&
			      strcmp(file + strlen(file) - strlen(suffix), suffix) == 0,
		      "file %s", file ? file : "(null)");
		/*
		 * the entry is on the func line up to Go 1.19; Go 1.26 puts it on
		 * the first statement it compiles (line 29): go tool objdump and
		 * debug/gosym of the release that built it say which
		 */
		if (gobin__info(gb)->go_minor > 19 && gosym_helper())
			entry_line = gosym_entry_line(COMPUTEE("default"), "main.computeE");
		CHECK(line == entry_line, "line %d, want %d", line, entry_line);
		/* every pc of the body is on a line of the function; padding is not */
		for (pc = f->entry; pc < f->end; pc++) {
			int l = 0;

			if (gobin__pc_line(gb, f, pc, NULL, &l) != 0)
				break;
			CHECK(l >= want && l <= want + 10, "pc %#lx: line %d", (unsigned long)pc,
			      l);
		}
		CHECK(pc > f->entry + 32, "only %#lx..%#lx has lines", (unsigned long)f->entry,
		      (unsigned long)pc);
		CHECK(gobin__pc_line(gb, f, f->end, &file, &line) == -ENOENT, "pc past the end");
		CHECK(gobin__func_at(gb, f->entry) == f && gobin__func_at(gb, f->end - 1) == f,
		      "func_at");
	}
	m = gobin__find_func(gb, "main.main");
	CHECK(m && gobin__pc_line(gb, m, m->entry, &file, &line) == 0 &&
		      line == line_of("tests/go/computee/main.go", "\nfunc main()") + 1,
	      "main.main line %d", line);
	gobin__free(gb);
}

/*
 * debug/gosym of the installed Go reads pclntab formats up to its own
 * release; this helper prints its view of a table so that whole tables can
 * be compared, built once into .output/unit.
 */
static const char gosym_src[] =
	"package main\n"
	"import (\"bufio\"; \"debug/elf\"; \"debug/gosym\"; \"fmt\"; \"os\")\n"
	"func main() {\n"
	"\tf, err := elf.Open(os.Args[1])\n"
	"\tif err != nil { os.Exit(1) }\n"
	"\ts := f.Section(\".gopclntab\")\n"
	"\tif s == nil { os.Exit(2) }\n"
	"\tdata, err := s.Data()\n"
	"\tif err != nil { os.Exit(1) }\n"
	"\tvar text uint64\n"
	"\tif t := f.Section(\".text\"); t != nil { text = t.Addr }\n"
	"\tsyms, _ := f.Symbols()\n"
	"\tfor _, sy := range syms { if sy.Name == \"runtime.text\" { text = sy.Value } }\n"
	"\ttab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text))\n"
	"\tif err != nil { os.Exit(3) }\n"
	"\tw := bufio.NewWriter(os.Stdout)\n"
	"\tdefer w.Flush()\n"
	"\tfor _, fn := range tab.Funcs {\n"
	"\t\tfile, line, _ := tab.PCToLine(fn.Entry)\n"
	"\t\tfmt.Fprintf(w, \"%x\\t%x\\t%s\\t%s:%d\\n\", fn.Entry, fn.End, fn.Name, file, line)\n"
	"\t}\n"
	"}\n";

/* The helper built by the go on PATH: debug/gosym must know its own tables. */
static const char *gosym_helper_path(void)
{
	static char path[256];

	if (!path[0])
		snprintf(path, sizeof(path), ".output/unit/gobin-gosym-%s",
			 builder_version() ? builder_version() : "none");
	return path;
}

static bool gosym_helper(void)
{
	static int built = -1;
	char dir[] = "/tmp/gobin-gosym-XXXXXX", path[512], cmd[4096], cwd[1024];

	if (built >= 0)
		return built;
	built = 0;
	if (exists(gosym_helper_path())) {
		built = 1;
		return true;
	}
	if (!have_go() || !mkdtemp(dir) || !getcwd(cwd, sizeof(cwd)))
		return false;
	snprintf(path, sizeof(path), "%s/main.go", dir);
	write_file(path, gosym_src, sizeof(gosym_src) - 1);
	snprintf(path, sizeof(path), "%s/go.mod", dir);
	write_file(path, "module gosym\ngo 1.13\n", 21);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && { [ -n \"${HOME:-}\" ] || export GOCACHE=%s/.output/gocache; } && "
		 "GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local go build -o %s/%s . >/dev/null "
		 "2>&1",
		 dir, cwd, cwd, gosym_helper_path());
	built = system(cmd) == 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
	return built;
}

/* The line debug/gosym gives func's entry, or -1. */
static int gosym_entry_line(const char *path, const char *func)
{
	char cmd[1024], line[8192], *name, *colon;
	int found = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s '%s'", gosym_helper_path(), path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		/* entry, end, name, file:line */
		name = strchr(line, '\t');
		name = name ? strchr(name + 1, '\t') : NULL;
		if (!name || strncmp(name + 1, func, strlen(func)) != 0 ||
		    name[1 + strlen(func)] != '\t')
			continue;
		colon = strrchr(name, ':');
		found = colon ? atoi(colon + 1) : -1;
	}
	pclose(p);
	return found;
}

/* The whole table, entry/end/name/file:line, equals debug/gosym's. */
static void compare_gosym(const char *label, const char *path, struct gobin *gb)
{
	char cmd[1024], line[8192], mine[8192];
	size_t i = 0, bad = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s '%s'", gosym_helper_path(), path);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(line, sizeof(line), p)) {
		const struct gobin_func *f = gobin__func(gb, i++);
		const char *file = "";
		int ln = 0;

		if (!f) {
			bad++;
			continue;
		}
		if (gobin__pc_line(gb, f, f->entry, &file, &ln) != 0) {
			file = "";
			ln = 0;
		}
		snprintf(mine, sizeof(mine), "%lx\t%lx\t%s\t%s:%d\n", (unsigned long)f->entry,
			 (unsigned long)f->end, f->name, file, ln);
		if (strcmp(line, mine) != 0 && bad++ < 3)
			fprintf(stderr, "    %s: gosym %s    gobin %s", label, line, mine);
	}
	CHECK(pclose(p) == 0, "%s: gosym helper failed", label);
	CHECK(bad == 0 && i == gobin__nfuncs(gb),
	      "%s: %zu of %zu functions differ from gosym (%zu)", label, bad, i, gobin__nfuncs(gb));
}

/* Real binaries built by other Go releases */

struct gobins_expect {
	const char *label, *version;
	bool from_buildinfo;
	enum gobin_pcln pcln;
	bool symtab;
};

static const struct gobins_expect gobins_expect[] = {
	{"go1.13", "go1.13.8", true, GOBIN_PCLN_12, true},
	{"go1.14", "go1.14.2", true, GOBIN_PCLN_12, true},
	{"go1.15", "go1.15", true, GOBIN_PCLN_12, false},
	{"go1.16", "go1.16", true, GOBIN_PCLN_116, false},
	{"go1.17", "go1.17.1", true, GOBIN_PCLN_116, false},
	{"go1.18", "go1.18", true, GOBIN_PCLN_118, false},
	{"go1.19", "go1.19", true, GOBIN_PCLN_118, false},
	{"go1.20", "go1.20.5", true, GOBIN_PCLN_120, false},
	{"go1.21", "go1.21.4", true, GOBIN_PCLN_120, false},
	{"go1.22", "go1.22.4", true, GOBIN_PCLN_120, false},
	{"go1.23", "go1.23.5", true, GOBIN_PCLN_120, false},
	{"go1.24", "go1.24.4", true, GOBIN_PCLN_120, false},
	/* esbuild strips buildinfo: the version comes from runtime.buildVersion */
	{"go1.25", "go1.25.4", false, GOBIN_PCLN_120, false},
	{"go1.26", "go1.26.5", false, GOBIN_PCLN_120, false},
	{"go1.27", "go1.27.3", true, GOBIN_PCLN_120, false},
};

struct gobin_file {
	char label[32], path[512];
};

static size_t list_gobins(struct gobin_file *out, size_t max)
{
	char line[1024];
	size_t n = 0;
	FILE *p = popen("tests/gobins.sh --list 2>/dev/null", "r");

	if (!p)
		return 0;
	while (n < max && fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%31s %511s", out[n].label, out[n].path) == 2)
			n++;
	}
	pclose(p);
	return n;
}

static const struct gobins_expect *expect_for(const char *label)
{
	for (size_t i = 0; i < sizeof(gobins_expect) / sizeof(gobins_expect[0]); i++)
		if (strcmp(gobins_expect[i].label, label) == 0)
			return &gobins_expect[i];
	return NULL;
}

static void check_types(const char *label, struct gobin *gb)
{
	size_t n = gobin__types(gb, NULL, 0), resolved = 0;
	uint64_t *t = calloc(n ? n : 1, sizeof(*t));
	bool file = false, str = false;

	CHECK(n > 100, "%s: %zu type descriptors", label, n);
	n = gobin__types(gb, t, n);
	for (size_t i = 0; t && i < n; i++) {
		const char *name = gobin__type_name(gb, t[i]);
		const uint8_t *elem;

		if (!name)
			continue;
		resolved++;
		file |= strcmp(name, "*os.File") == 0 && gobin__type_kind(gb, t[i]) == KIND_POINTER;
		/* the element type of []string, right after the slice type header */
		if (strcmp(name, "[]string") == 0 &&
		    (elem = gobin__data(gb, t[i] + 48, 8)) != NULL) {
			uint64_t e;

			memcpy(&e, elem, 8);
			str = gobin__type_name(gb, e) &&
			      strcmp(gobin__type_name(gb, e), "string") == 0 &&
			      gobin__type_kind(gb, e) == KIND_STRING;
		}
	}
	CHECK(resolved == n, "%s: %zu of %zu type names resolved", label, resolved, n);
	CHECK(file, "%s: no *os.File among the types", label);
	/* Go 1.27 lists itab types only, where []string need not appear */
	CHECK(str || gobin__info(gb)->go_minor >= 27, "%s: []string's element is not string",
	      label);
	CHECK(gobin__type_name(gb, 0) == NULL && gobin__type_kind(gb, 1) == -1,
	      "%s: bogus type addresses resolve", label);
	free(t);
}

static void check_arginfo(const char *label, struct gobin *gb)
{
	/* func Sprintf(format string, a ...any): {ptr len} {ptr len cap} */
	static const uint8_t want[] = {0xfe, 0x00, 0x08, 0x08, 0x08, 0xfd, 0xfe, 0x10,
				       0x08, 0x18, 0x08, 0x20, 0x08, 0xfd, 0xff};
	const struct gobin_func *f = gobin__find_func(gb, "fmt.Sprintf");
	uint8_t buf[256];
	int n;

	if (!f)
		return;
	n = gobin__arginfo(gb, f, buf, sizeof(buf));
	if (gobin__info(gb)->go_minor < 17) {
		CHECK(n == -ENOENT, "%s: arginfo before Go 1.17: %d", label, n);
		return;
	}
	CHECK(n == (int)sizeof(want) && memcmp(buf, want, sizeof(want)) == 0,
	      "%s: fmt.Sprintf arginfo: %d bytes", label, n);
	CHECK(gobin__arginfo(gb, f, buf, 4) == -ENOSPC, "%s: small buffer", label);
}

static void test_real_binaries(void)
{
	struct gobin_file files[64];
	size_t n = list_gobins(files, 64);
	bool gosym = gosym_helper();

	if (!n)
		SKIP("no binaries in .cache/gobins; run: tests/gobins.sh");
	for (size_t i = 0; i < n; i++) {
		const char *label = files[i].label, *path = files[i].path;
		const struct gobins_expect *e = expect_for(label);
		const struct gobin_func *f, *rt0, *mm;
		const struct gobin_info *in;
		uint64_t entry = elf_entry(path);
		struct gobin *gb = open_ok(path);

		if (!gb)
			continue;
		in = gobin__info(gb);
		if (e) {
			CHECK_STR(in->go_version, e->version);
			CHECK(in->version_from_buildinfo == e->from_buildinfo,
			      "%s: from buildinfo %d", label, in->version_from_buildinfo);
			CHECK(in->pcln == e->pcln, "%s: pcln %d", label, in->pcln);
			CHECK(in->has_symtab == e->symtab, "%s: symtab %d", label, in->has_symtab);
		} else {
			CHECK(strncmp(in->go_version, label, strlen(label)) == 0, "%s: version %s",
			      label, in->go_version);
		}
		CHECK(in->regabi == (in->go_minor >= 17), "%s: regabi", label);
		CHECK(!in->pie && in->static_link && !in->cgo, "%s: pie/static/cgo", label);
		CHECK(in->nfuncs > 2000 && in->nfuncs < 200000, "%s: %zu functions", label,
		      in->nfuncs);
		rt0 = gobin__func_at(gb, entry);
		CHECK(rt0 && strcmp(rt0->name, "_rt0_amd64_linux") == 0 && rt0->entry == entry,
		      "%s: e_entry %#lx is in %s", label, (unsigned long)entry,
		      rt0 ? rt0->name : "nothing");
		CHECK(rt0 && rt0->asm_abi0, "%s: _rt0_amd64_linux is ABI0 assembly", label);
		mm = gobin__find_func(gb, "main.main");
		CHECK(mm && !mm->asm_abi0 && gobin__find_func(gb, "runtime.main"),
		      "%s: main.main/runtime.main", label);
		/* memmove is assembly; since Go 1.17 it takes its arguments in registers */
		f = gobin__find_func(gb, "runtime.memmove");
		CHECK(f && f->asm_abi0 == (in->go_minor < 17), "%s: runtime.memmove asm_abi0 %d",
		      label, f ? f->asm_abi0 : -1);
		if (gosym && in->pcln <= GOBIN_PCLN_118)
			compare_gosym(label, path, gb);
		if (in->has_symtab && have_go()) {
			struct fent *nm, *tab;
			size_t nnm = nm_funcs(path, &nm), ntab = table_funcs(gb, &tab);

			CHECK(fents_diff(label, nm, nnm, tab, ntab, false) == 0 && nnm == ntab,
			      "%s: table differs from go tool nm (%zu vs %zu)", label, nnm, ntab);
			fents_free(nm, nnm);
			fents_free(tab, ntab);
		}
		check_types(label, gb);
		check_arginfo(label, gb);
		gobin__free(gb);
	}
}

static void test_timing_large_binary(void)
{
	struct gobin_file files[64];
	size_t n = list_gobins(files, 64);
	const char *path = NULL;
	double best = 1e9, t0, t1;

	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i].label, "go1.27") == 0)
			path = files[i].path;
	if (!path)
		SKIP("no go1.27 binary in .cache/gobins; run: tests/gobins.sh");
	for (int i = 0; i < 5; i++) {
		struct gobin *gb = NULL;
		const struct gobin_func *f;

		t0 = now_ms();
		if (gobin__open(path, &gb) != 0)
			break;
		f = gobin__find_func(gb, "main.main");
		t1 = now_ms();
		CHECK(f != NULL, "main.main");
		if (t1 - t0 < best)
			best = t1 - t0;
		if (i == 4)
			printf("  info: %s (%zu functions): open + one lookup %.2f ms (best of "
			       "5)\n",
			       path, gobin__nfuncs(gb), best);
		gobin__free(gb);
	}
}

/* Names */

static void test_glob_and_lookup(void)
{
	const struct gobin_func *out[4096];
	const char *sugg[4];
	const char *generic = "crypto/elliptic.(*nistCurve[...]).ScalarMult";
	struct gobin *gb;
	size_t n, want = 0;
	bool main_main = false;

	if (!exists(COMPUTEE("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", COMPUTEE("default"));
	gb = open_ok(COMPUTEE("default"));
	if (!gb)
		return;
	for (size_t i = 0; i < gobin__nfuncs(gb); i++)
		want += strncmp(gobin__func(gb, i)->name, "main.", 5) == 0;
	n = gobin__glob(gb, "main.*", out, 4096);
	CHECK(n == want && n >= 4, "main.*: %zu, want %zu", n, want);
	for (size_t i = 0; i < n && i < 4096; i++) {
		CHECK(strncmp(out[i]->name, "main.", 5) == 0, "main.* matched %s", out[i]->name);
		CHECK(i == 0 || out[i]->index > out[i - 1]->index, "not in table order");
		main_main |= strcmp(out[i]->name, "main.main") == 0;
	}
	CHECK(main_main, "main.* lacks main.main");
	/* '*' crosses '/' and '.', and matches the '*' of "(*T)" */
	n = gobin__glob(gb, "*.ServeHTTP", out, 4096);
	CHECK(n >= 3, "*.ServeHTTP: %zu", n);
	for (size_t i = 0; i < n && i < 4096; i++)
		CHECK(strlen(out[i]->name) > 10 &&
			      strcmp(out[i]->name + strlen(out[i]->name) - 10, ".ServeHTTP") == 0,
		      "*.ServeHTTP matched %s", out[i]->name);
	n = gobin__glob(gb, "net/http.(*ServeMux).*", out, 4096);
	CHECK(n >= 4, "net/http.(*ServeMux).*: %zu", n);
	for (size_t i = 0; i < n && i < 4096; i++)
		CHECK(strncmp(out[i]->name, "net/http.(*ServeMux).", 21) == 0, "matched %s",
		      out[i]->name);
	/* more matches than room: the total is still returned */
	CHECK(gobin__glob(gb, "net/http.(*ServeMux).*", out, 2) == n, "count with small max");
	CHECK(gobin__glob(gb, "main.[c]omput?E", out, 4) == 1 &&
		      strcmp(out[0]->name, "main.computeE") == 0,
	      "character class");
	CHECK(gobin__glob(gb, "main.nosuch*", out, 4) == 0, "no match");

	/* exact lookups, with the characters Go names contain */
	CHECK(gobin__find_func(gb, "net/http.(*ServeMux).ServeHTTP") != NULL, "(*T) lookup");
	CHECK(gobin__glob(gb, "net/http.(*ServeMux).ServeHTTP", out, 4) == 1 &&
		      strcmp(out[0]->name, "net/http.(*ServeMux).ServeHTTP") == 0,
	      "glob without metacharacters");
	CHECK(gobin__find_func(gb, "main.computeF") == NULL, "main.computeF exists?");
	CHECK(gobin__find_func(gb, "") == NULL && gobin__find_func(gb, NULL) == NULL, "empty");

	/*
	 * "[...]" matches every instantiation: Go 1.18-1.20 name them all "F[...]"
	 * (then a lookup of the repeated name returns the first in table order),
	 * later releases by shape ("(*nistCurve[go.shape.*uint8]).ScalarMult")
	 * and the wrappers by type ("(*nistCurve[*nistec.P256Point]).ScalarMult")
	 */
	n = gobin__glob(gb, generic, out, 16);
	CHECK(n >= 2, "generic: %zu matches", n);
	if (gobin__info(gb)->go_minor <= 20)
		CHECK(n >= 1 && gobin__find_func(gb, generic) == out[0],
		      "lookup of a repeated name returns the first in table order");
	for (size_t i = 0; gobin__info(gb)->go_minor > 20 && i < n && i < 16; i++) {
		const struct gobin_func *f = gobin__find_func(gb, out[i]->name);

		/* the shape instance, or a generated wrapper for a concrete type */
		CHECK(!strstr(out[i]->name, "(*nistCurve[go.shape.") == !!out[i]->funcid && f &&
			      f->index <= out[i]->index && strcmp(f->name, out[i]->name) == 0,
		      "instantiation %s (funcID %d)", out[i]->name, out[i]->funcid);
	}

	CHECK(gobin__suggest(gb, "main.computeF", sugg, 4) >= 1 &&
		      strcmp(sugg[0], "main.computeE") == 0,
	      "suggest main.computeF: %s", sugg[0]);
	n = gobin__suggest(gb, "computeE", sugg, 4);
	CHECK(n >= 1 && strcmp(sugg[0], "main.computeE") == 0, "suggest computeE: %s",
	      n ? sugg[0] : "-");
	CHECK(gobin__suggest(gb, "net/http.(*ServeMux).ServeHTTPS", sugg, 1) == 1 &&
		      strcmp(sugg[0], "net/http.(*ServeMux).ServeHTTP") == 0,
	      "suggest ServeHTTPS");
	CHECK(gobin__suggest(gb, "zzzzzzzzzzzzzzzzzzzz.qqqqqqqq", sugg, 4) == 0, "far names");
	gobin__free(gb);
}

static void test_glob_instantiations(void)
{
	struct gobin_file files[64];
	size_t n = list_gobins(files, 64), m;
	const struct gobin_func *out[8];
	struct gobin *gb = NULL;

	for (size_t i = 0; i < n && !gb; i++)
		if (strcmp(files[i].label, "go1.27") == 0)
			gb = open_ok(files[i].path);
	if (!gb)
		SKIP("no go1.27 binary in .cache/gobins; run: tests/gobins.sh");
	/* Go 1.21+ names instantiations by shape; "[...]" stands for any of them */
	m = gobin__glob(gb, "internal/strconv.shortFloat[...]", out, 8);
	CHECK(m == 2, "shortFloat[...]: %zu", m);
	CHECK(gobin__find_func(gb, "internal/strconv.shortFloat[go.shape.float64]") != NULL,
	      "exact instantiation");
	CHECK(gobin__glob(gb, "internal/strconv.shortFloat[go.shape.float64]", out, 8) == 1,
	      "literal instantiation");
	/* "[N]" would be a character class to fnmatch; a literal reading is tried too */
	for (size_t i = 0; i < gobin__nfuncs(gb); i++) {
		const char *name = gobin__func(gb, i)->name, *b = strstr(name, ".[");

		if (b && strncmp(name, "type:.eq.", 9) == 0) {
			m = gobin__glob(gb, name, out, 8);
			CHECK(m >= 1 && strcmp(out[0]->name, name) == 0, "glob %s: %zu", name, m);
			break;
		}
	}
	gobin__free(gb);
}

/* DWARF: every named type's runtime descriptor resolves to the same name */

struct dw_walk {
	struct gobin *gb;
	uint64_t types;
	size_t compared, matched;
	bool file, str, integer;
};

/*
 * A package path's last element escapes its dots ("v1%2e0%2e0"); when it is
 * a version ("/v2", "/v1.0.0") the package name is the element before it.
 */
static void unversion(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	while (*in && o + 1 < cap) {
		if (strncmp(in, "%2e", 3) == 0) {
			out[o++] = '.';
			in += 3;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
	for (char *v = strstr(out, "/v"); v; v = strstr(v + 1, "/v")) {
		char *e = v + 2;

		if (*e < '0' || *e > '9')
			continue;
		while ((*e >= '0' && *e <= '9') || (*e == '.' && e[1] >= '0' && e[1] <= '9'))
			e++;
		if (*e == '.')
			memmove(v, e, strlen(e) + 1);
	}
}

/*
 * DWARF qualifies names by package path and gives linker-made types a
 * "noalg." prefix and local types a "·N" suffix; runtime names use the
 * package name only, except in type arguments and shape types
 * ("go.shape.*internal/abi.Type"), which keep the path.
 */
static void dwarf_to_runtime(const char *name, char *out, size_t cap)
{
	size_t o = 0;
	int depth = 0, generic = 0; /* depth of the outermost type argument list */
	char buf[4096], *in = buf;

	unversion(name, buf, sizeof(buf));
	if (strncmp(in, "noalg.", 6) == 0)
		in += 6;
	if (strncmp(in, "go.shape.", 9) == 0) {
		snprintf(out, cap, "%s", in);
		return;
	}
	for (const char *p = in; *p && o + 1 < cap; p++) {
		if (*p == '[') {
			/* "F[...]" lists type arguments; "[5]", "map[K]", "map.bucket[K]" do not */
			size_t w = o;

			while (w > 0 && !strchr(" *[](){},;:", out[w - 1]))
				w--;
			depth++;
			if (!generic && w < o && strncmp(out + w, "map", 3) != 0)
				generic = depth;
		} else if (*p == ']') {
			if (generic == depth)
				generic = 0;
			depth--;
		}
		if (*p == '/' && !generic) {
			while (o > 0 && !strchr(" *[](){},;:", out[o - 1]))
				o--;
		} else if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xb7) {
			for (p += 2; *p >= '0' && *p <= '9'; p++)
				;
			p--;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static void dw_visit(struct dw_walk *w, Dwarf_Die *die, int depth)
{
	do {
		Dwarf_Attribute attr;
		Dwarf_Word off;
		Dwarf_Addr addr;
		Dwarf_Die child;
		const char *name = dwarf_diename(die);

		if (name && dwarf_attr(die, DW_AT_go_runtime_type, &attr)) {
			uint64_t v = 0;
			char want[4096];
			const char *got;

			if (dwarf_formaddr(&attr, &addr) == 0)
				v = addr;
			else if (dwarf_formudata(&attr, &off) == 0)
				v = off;
			/* a few are written as addresses rather than offsets */
			if (v && v < w->types)
				v += w->types;
			/* struct field and func parameter names are spelled differently */
			if (v && !strstr(name, "struct {") && !strstr(name, "func(") &&
			    !strstr(name, "interface {")) {
				dwarf_to_runtime(name, want, sizeof(want));
				got = gobin__type_name(w->gb, v);
				w->compared++;
				if (got && strcmp(got, want) == 0) {
					w->matched++;
					w->file |= strcmp(got, "*os.File") == 0;
					w->str |= strcmp(got, "string") == 0 &&
						  gobin__type_kind(w->gb, v) == KIND_STRING;
					w->integer |= strcmp(got, "int") == 0;
				} else if (w->compared - w->matched <= 3) {
					fprintf(stderr, "    DWARF %s, gobin %s\n", want,
						got ? got : "(null)");
				}
			}
		}
		if (depth < 2 && dwarf_child(die, &child) == 0)
			dw_visit(w, &child, depth + 1);
	} while (dwarf_siblingof(die, die) == 0);
}

static void test_type_names_match_dwarf(void)
{
	struct dw_walk w = {0};
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd;

	if (!exists(COMPUTEE("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", COMPUTEE("default"));
	w.gb = open_ok(COMPUTEE("default"));
	if (!w.gb)
		return;
	/* DW_AT_go_runtime_type is an offset from runtime.types */
	CHECK(gobin__symbol(w.gb, "runtime.types", &w.types, NULL) == 0, "runtime.types");
	fd = open(COMPUTEE("default"), O_RDONLY);
	dw = fd >= 0 ? dwarf_begin(fd, DWARF_C_READ) : NULL;
	CHECK(dw != NULL, "libdw cannot read %s", COMPUTEE("default"));
	while (dw && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;

		if (dwarf_offdie(dw, off + hsize, &cu))
			dw_visit(&w, &cu, 0);
		off = next;
	}
	CHECK(w.compared > 1000 && w.matched == w.compared, "%zu of %zu DWARF type names match",
	      w.matched, w.compared);
	CHECK(w.file && w.str && w.integer, "*os.File %d string %d int %d", w.file, w.str,
	      w.integer);
	if (dw)
		dwarf_end(dw);
	if (fd >= 0)
		close(fd);
	gobin__free(w.gb);
}

/* Data, TLS, symbols, arginfo on the default build */

static void test_data_tls_symbols(void)
{
	const struct gobin_func *f;
	uint64_t off, addr, size, memsz, align;
	const uint8_t *p;
	char *file;
	size_t len;
	struct gobin *gb;
	uint8_t buf[16];

	if (!exists(COMPUTEE("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", COMPUTEE("default"));
	gb = open_ok(COMPUTEE("default"));
	file = read_file(COMPUTEE("default"), &len);
	if (!gb || !file) {
		gobin__free(gb);
		free(file);
		return;
	}
	f = gobin__find_func(gb, "main.computeE");
	CHECK(f && gobin__vaddr_to_offset(gb, f->entry, &off) == 0, "vaddr_to_offset");
	p = f ? gobin__data(gb, f->entry, 16) : NULL;
	CHECK(p && off + 16 <= len && memcmp(p, file + off, 16) == 0, "data at main.computeE");
	CHECK(gobin__data(gb, 0, 1) == NULL && gobin__vaddr_to_offset(gb, 0, &off) == -ENOENT,
	      "address 0 is not in the file");
	CHECK(gobin__symbol(gb, "main.computeE", &addr, &size) == 0 && f && addr == f->entry &&
		      size > 0 && size <= f->end - f->entry,
	      "symbol main.computeE");
	CHECK(gobin__symbol(gb, "main.nosuch", &addr, NULL) == -ENOENT, "missing symbol");
	/* static internal linking needs no PT_TLS; the external linker makes one */
	CHECK(gobin__tls(gb, &memsz, &align) == -ENOENT, "default build has PT_TLS");
	if (exists(COMPUTEE("cgo"))) {
		struct gobin *cg = open_ok(COMPUTEE("cgo"));

		memsz = align = 0;
		CHECK(cg && gobin__tls(cg, &memsz, &align) == 0 && memsz == 8 && align == 8,
		      "cgo PT_TLS memsz %lu align %lu", (unsigned long)memsz, (unsigned long)align);
		gobin__free(cg);
	}
	CHECK(f && gobin__arginfo(gb, f, buf, sizeof(buf)) == 3 && buf[0] == 0 && buf[1] == 8 &&
		      buf[2] == 0xff,
	      "arginfo of computeE(iterations int64)");
	free(file);
	gobin__free(gb);
}

/* Bad input */

static char tmpdir[] = "/tmp/test_gobin-XXXXXX";

static void expect_error(const char *path, int err, const char *fmt)
{
	char want[1024];
	struct gobin *gb = (struct gobin *)1;
	int got;

	snprintf(want, sizeof(want), fmt, path);
	lp_clearerr();
	got = gobin__open(path, &gb);
	CHECK(got == err, "%s: error %d, want %d (%s)", path, got, err, lp_lasterr());
	CHECK(gb == NULL, "%s: *out not NULL", path);
	CHECK_STR(lp_lasterr(), want);
}

static char *tmp_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void test_bad_input(void)
{
	uint64_t off, size, soff = 0, ssize = 0;
	size_t len;
	char *orig, *copy;

	expect_error(tmp_path("missing"), -ENOENT, "%s: no such file");
	expect_error(tmpdir, -EISDIR, "%s: is a directory");
	CHECK(write_file(tmp_path("text"), "hello, world\n", 13), "write");
	expect_error(tmp_path("text"), -ENOEXEC, "%s: not an ELF file");
	CHECK(write_file(tmp_path("empty"), "", 0), "write");
	expect_error(tmp_path("empty"), -ENOEXEC, "%s: not an ELF file");
	if (geteuid() != 0) {
		CHECK(write_file(tmp_path("noperm"), "x", 1) && chmod(tmp_path("noperm"), 0) == 0,
		      "chmod");
		expect_error(tmp_path("noperm"), -EACCES, "%s: permission denied");
	}
	if (exists("/bin/ls") && elf_entry("/bin/ls"))
		expect_error("/bin/ls", -ENOEXEC,
			     "%s: not a Go binary (no Go function table found)");

	if (!exists(COMPUTEE("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", COMPUTEE("default"));
	orig = read_file(COMPUTEE("default"), &len);
	CHECK(orig && elf_section(orig, len, ".gopclntab", &off, &size), ".gopclntab");
	if (!orig || !elf_section(orig, len, ".gopclntab", &off, &size)) {
		free(orig);
		return;
	}
	copy = malloc(len);

	/* Go's linker writes the section headers first: the sections go missing */
	CHECK(write_file(tmp_path("first4k"), orig, 4096), "write");
	expect_error(tmp_path("first4k"), -EINVAL,
		     "%s: truncated or corrupted ELF file (section names past end of file)");
	/*
	 * cut in the middle of the function table: what is missing first is
	 * named, the table, or the section names that Go 1.26's linker writes
	 * at the end of the file
	 */
	CHECK(write_file(tmp_path("halfpcln"), orig, off + size / 2), "write");
	CHECK(elf_section(orig, len, ".shstrtab", &soff, &ssize), ".shstrtab");
	if (soff + ssize <= off + size / 2)
		expect_error(tmp_path("halfpcln"), -EINVAL,
			     "%s: truncated or corrupted ELF file (section .gopclntab past end of "
			     "file)");
	else
		expect_error(
			tmp_path("halfpcln"), -EINVAL,
			"%s: truncated or corrupted ELF file (section names past end of file)");
	/* a table said to end past the end of the file, whatever the layout */
	memcpy(copy, orig, len);
	CHECK(set_section_size(copy, len, ".gopclntab", len - off + 1), "section size");
	CHECK(write_file(tmp_path("longpcln"), copy, len), "write");
	expect_error(tmp_path("longpcln"), -EINVAL,
		     "%s: truncated or corrupted ELF file (section .gopclntab past end of file)");
	CHECK(write_file(tmp_path("first100"), orig, 100), "write");
	expect_error(tmp_path("first100"), -EINVAL,
		     "%s: truncated or corrupted ELF file (section headers past end of file)");

	memcpy(copy, orig, len);
	memset(copy + off, 0, 8);
	CHECK(write_file(tmp_path("badmagic"), copy, len), "write");
	expect_error(tmp_path("badmagic"), -EINVAL,
		     "%s: truncated or corrupted Go function table (bad header in .gopclntab)");

	/* a function table that claims more functions than it has room for */
	memcpy(copy, orig, len);
	memset(copy + off + 8, 0x7f, 4);
	CHECK(write_file(tmp_path("nfunc"), copy, len), "write");
	expect_error(tmp_path("nfunc"), -EINVAL,
		     "%s: truncated or corrupted Go function table (bad header in .gopclntab)");

	memcpy(copy, orig, len);
	copy[18] = (char)EM_AARCH64;
	copy[19] = 0;
	CHECK(write_file(tmp_path("arm64"), copy, len), "write");
	expect_error(tmp_path("arm64"), -ENOEXEC,
		     "%s: built for arm64; luprobe traces amd64 binaries only");

	memcpy(copy, orig, len);
	copy[EI_CLASS] = ELFCLASS32;
	copy[18] = EM_386;
	CHECK(write_file(tmp_path("i386"), copy, len), "write");
	expect_error(tmp_path("i386"), -ENOEXEC,
		     "%s: built for 386; luprobe traces amd64 binaries only");
	free(copy);
	free(orig);

	/*
	 * without a section name (Go 1.19's external linker leaves none), a
	 * damaged header is simply not found; with one (Go 1.26's), it is named
	 */
	if (exists(COMPUTEE("cgo-pie"))) {
		struct gobin *gb = NULL;
		const struct gobin_info *in;

		orig = read_file(COMPUTEE("cgo-pie"), &len);
		CHECK(orig && gobin__open(COMPUTEE("cgo-pie"), &gb) == 0, "cgo-pie");
		in = gobin__info(gb);
		if (orig && in && gobin__vaddr_to_offset(gb, in->pclntab_addr, &off) == 0) {
			bool named = elf_section(orig, len, ".gopclntab", &soff, &ssize);

			memset(orig + off, 0, 4);
			CHECK(write_file(tmp_path("cgo-pie"), orig, len), "write");
			if (named)
				expect_error(tmp_path("cgo-pie"), -EINVAL,
					     "%s: truncated or corrupted Go function table (bad "
					     "header in .gopclntab)");
			else
				expect_error(tmp_path("cgo-pie"), -ENOEXEC,
					     "%s: not a Go binary (no Go function table found)");
		}
		gobin__free(gb);
		free(orig);
	}
}

/*
 * Damage the pclntab of a copy at many places and check that every open
 * either succeeds or fails with a message; run under SANITIZE=1 this also
 * proves the reads stay in bounds.
 */
static void test_damaged_tables_never_crash(void)
{
	uint64_t off, size;
	size_t len, failed = 0;
	char *orig;
	unsigned seed = 12345;

	if (!exists(COMPUTEE("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", COMPUTEE("default"));
	orig = read_file(COMPUTEE("default"), &len);
	if (!orig || !elf_section(orig, len, ".gopclntab", &off, &size)) {
		CHECK(0, "cannot read %s", COMPUTEE("default"));
		free(orig);
		return;
	}
	for (int round = 0; round < 60; round++) {
		char *copy = malloc(len);
		struct gobin *gb = NULL;
		const struct gobin_func *f;
		int err;

		memcpy(copy, orig, len);
		/* headers, the function table and the records right after it */
		for (int k = 0; k < 1 + round % 4; k++) {
			uint64_t r = (uint64_t)rand_r(&seed);
			uint64_t where =
				round < 20 ? r % 96 : r % (size < 1 << 20 ? size : 1 << 20);

			copy[off + where] = (char)rand_r(&seed);
		}
		CHECK(write_file(tmp_path("damaged"), copy, len), "write");
		free(copy);
		lp_clearerr();
		err = gobin__open(tmp_path("damaged"), &gb);
		if (err) {
			failed++;
			CHECK(gb == NULL && lp_lasterr()[0], "round %d: error %d without message",
			      round, err);
			continue;
		}
		/* whatever was accepted must be usable */
		for (size_t i = 0; i < gobin__nfuncs(gb); i += 97) {
			const char *file;
			int line;
			uint8_t buf[256];

			f = gobin__func(gb, i);
			gobin__pc_line(gb, f, f->entry, &file, &line);
			gobin__arginfo(gb, f, buf, sizeof(buf));
			CHECK(gobin__func_at(gb, f->entry) != NULL, "func_at");
		}
		gobin__free(gb);
	}
	printf("  info: %zu of 60 damaged copies rejected\n", failed);
	free(orig);
}

/* Both tables describe the same functions at the same addresses. */
static void check_same_table(const char *what, struct gobin *a, struct gobin *b)
{
	size_t n = gobin__nfuncs(a), bad = 0;

	CHECK(n > 0 && n == gobin__nfuncs(b), "%s: %zu vs %zu functions", what, n,
	      gobin__nfuncs(b));
	for (size_t i = 0; i < n && i < gobin__nfuncs(b); i++) {
		const struct gobin_func *x = gobin__func(a, i), *y = gobin__func(b, i);

		bad += x->entry != y->entry || x->end != y->end || strcmp(x->name, y->name) != 0;
	}
	CHECK(bad == 0, "%s: %zu functions differ", what, bad);
	CHECK_STR(gobin__info(b)->go_version, gobin__info(a)->go_version);
	CHECK(gobin__info(a)->text_start == gobin__info(b)->text_start, "%s: text_start", what);
}

/*
 * Without section headers everything must be found by content: the pclntab
 * by its header, the module data by its pointer to it (Go 1.26+ needs it
 * for textStart), buildinfo by its magic.
 */
static void test_without_section_headers(void)
{
	struct gobin_file files[64];
	size_t n = list_gobins(files, 64), tested = 0;
	const char *paths[8];
	size_t np = 0;

	if (exists(COMPUTEE("default")))
		paths[np++] = COMPUTEE("default");
	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i].label, "go1.13") == 0 ||
		    strcmp(files[i].label, "go1.16") == 0 || strcmp(files[i].label, "go1.26") == 0)
			paths[np++] = files[i].path;
	for (size_t i = 0; i < np; i++) {
		struct gobin *orig = NULL, *gb = NULL;
		size_t len;
		char *data = read_file(paths[i], &len);
		Elf64_Ehdr eh;

		if (!data || len < sizeof(eh)) {
			free(data);
			continue;
		}
		memcpy(&eh, data, sizeof(eh));
		eh.e_shoff = 0;
		eh.e_shnum = 0;
		eh.e_shstrndx = 0;
		memcpy(data, &eh, sizeof(eh));
		CHECK(write_file(tmp_path("noshdr"), data, len), "write");
		free(data);
		orig = open_ok(paths[i]);
		gb = open_ok(tmp_path("noshdr"));
		if (orig && gb) {
			uint64_t t[1];

			check_same_table(paths[i], orig, gb);
			CHECK(gobin__types(gb, t, 1) == gobin__types(orig, t, 1) &&
				      gobin__types(gb, t, 1) > 100,
			      "%s: module data not found by content", paths[i]);
			tested++;
		}
		gobin__free(orig);
		gobin__free(gb);
	}
	if (!tested)
		SKIP("no fixtures; run: OUTPUT=.output tests/go/build.sh and tests/gobins.sh");
}

/*
 * In PIE binaries a pointer may be left 0 in the file, its value only in a
 * relocation. Zero every word after the pclntab header that holds the text
 * address (pcHeader.textStart, moduledata.text and minpc): without .symtab,
 * only the relocations can give it back.
 */
static void test_pie_pointers_from_relocations(void)
{
	struct gobin *orig, *gb;
	uint64_t off, words = 0;
	size_t len;
	char *data;

	if (!exists(COMPUTEE("stripped-pie")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", COMPUTEE("stripped-pie"));
	orig = open_ok(COMPUTEE("stripped-pie"));
	data = read_file(COMPUTEE("stripped-pie"), &len);
	if (orig && data &&
	    gobin__vaddr_to_offset(orig, gobin__info(orig)->pclntab_addr, &off) == 0) {
		uint64_t text = gobin__info(orig)->text_start, roff = 0, rsize = 0;

		/* not the relocations' addends, which Go 1.26 writes after the table */
		if (!elf_section(data, len, ".rela", &roff, &rsize))
			elf_section(data, len, ".rela.dyn", &roff, &rsize);
		for (uint64_t o = off; o + 8 <= len; o += 8) {
			uint64_t v;

			memcpy(&v, data + o, 8);
			if (v == text && (o < roff || o >= roff + rsize)) {
				memset(data + o, 0, 8);
				words++;
			}
		}
		CHECK(words >= 2, "%lu words hold the text address", (unsigned long)words);
		CHECK(write_file(tmp_path("pie-zeroed"), data, len), "write");
		gb = open_ok(tmp_path("pie-zeroed"));
		if (gb)
			check_same_table("stripped-pie with zeroed pointers", orig, gb);
		gobin__free(gb);
	}
	free(data);
	gobin__free(orig);
}

static void test_free_accepts_null(void)
{
	gobin__free(NULL);
	CHECK(gobin__nfuncs(NULL) == 0 && gobin__func(NULL, 0) == NULL &&
		      gobin__find_func(NULL, "x") == NULL && gobin__info(NULL) == NULL,
	      "NULL handle");
}

int main(void)
{
	char cmd[600];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_computee_info);
	RUN(test_computee_matches_nm);
	RUN(test_pc_line);
	RUN(test_real_binaries);
	RUN(test_timing_large_binary);
	RUN(test_glob_and_lookup);
	RUN(test_glob_instantiations);
	RUN(test_type_names_match_dwarf);
	RUN(test_data_tls_symbols);
	RUN(test_bad_input);
	RUN(test_damaged_tables_never_crash);
	RUN(test_without_section_headers);
	RUN(test_pie_pointers_from_relocations);
	RUN(test_free_accepts_null);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return unit_summary();
}
