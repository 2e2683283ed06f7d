// SPDX-License-Identifier: BSD-2-Clause
/* luprobe -l and --info (listing.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include "binary.h"
#include "compile.h"
#include "listing.h"
#include "log.h"
#include "rtype.h"
#include "signature.h"
#include "strbuf.h"

#define MAX_SIG 64

static int fail(const char *msg)
{
	fprintf(stderr, "luprobe: %s\n", msg);
	return 1;
}

/* "(n int64, s string) (r int, err error)" */
static void put_signature(struct strbuf *sb, const struct goparam *p, size_t n)
{
	size_t j, k = 0, nres = 0;

	sb_putc(sb, '(');
	for (j = 0; j < n; j++) {
		if (p[j].is_result) {
			nres++;
			continue;
		}
		sb_printf(sb, "%s%s %s", k++ ? ", " : "", p[j].name,
			  p[j].type->name ? p[j].type->name : "?");
	}
	sb_putc(sb, ')');
	if (nres)
		sb_puts(sb, nres > 1 ? " (" : " ");
	for (j = 0, k = 0; j < n; j++) {
		if (!p[j].is_result)
			continue;
		if (k++)
			sb_puts(sb, ", ");
		if (p[j].name[0] != '~')
			sb_printf(sb, "%s ", p[j].name);
		sb_puts(sb, p[j].type->name ? p[j].type->name : "?");
	}
	if (nres > 1)
		sb_putc(sb, ')');
}

/*
 * The raw layout of f's arguments: the traceback record (Go 1.17+), else
 * the argument words the pclntab's argument size counts (stack ABI and
 * assembly: arguments and results; "()" for none). 0 if it is not known.
 */
static int put_layout(struct strbuf *sb, const struct gobin *gb, const struct gobin_func *f)
{
	char buf[512];
	int i;

	if (signature__layout(gb, f, buf, sizeof(buf)) > 0) {
		sb_puts(sb, buf);
		return 1;
	}
	if (f->args == 0) {
		sb_puts(sb, "()");
		return 1;
	}
	/* the register ABI without a record: only assembly (ABI0) has its words on the stack */
	if (f->args < 0 || (gobin__info(gb)->go_minor >= 17 && !f->asm_abi0))
		return 0;
	sb_putc(sb, '(');
	for (i = 0; i < f->args / 8 && i < 32; i++)
		sb_printf(sb, "%sa%d", i ? ", " : "", i);
	sb_puts(sb, f->args / 8 > 32 ? ", ...)" : ")");
	return 1;
}

/* The best signature of f, and its source; the source's name, or NULL. */
static const char *describe(struct strbuf *sb, struct binary *b, const struct gobin_func *f)
{
	struct goparam p[MAX_SIG];
	const char *from = NULL;
	int n = compile__signature(b, f, p, MAX_SIG, &from);

	if (n >= 0 && from) {
		put_signature(sb, p, (size_t)n);
		return from;
	}
	return put_layout(sb, b->gb, f) ? "layout only" : NULL;
}

/* Is s, up to its end, a word followed by digits ("func12"), word being one of words? */
static bool numbered(const char *s, const char *const *words)
{
	size_t k, n;

	for (k = 0; words[k]; k++) {
		n = strlen(words[k]);
		if (strncmp(s, words[k], n) == 0 && s[n] && s[n] != '.' &&
		    strspn(s + n, "0123456789.") == strlen(s + n))
			return true;
	}
	return false;
}

/*
 * What f is when its name says more than its signature: a closure (its
 * captured variables come through its context register, not as arguments),
 * a generic instantiation (the shape one takes a dictionary, which no
 * traceback record lists). layout: only the raw layout is shown.
 */
static void put_kind(struct strbuf *sb, const char *name, bool layout)
{
	static const char *const closures[] = {"func", "gowrap", "deferwrap", NULL};
	static const char *const digits[] = {"", NULL};
	const char *br = strchr(name, '['), *last = strrchr(name, '.');
	size_t i;

	/* "main.main.func1", "main.f.func2.1", "main.f.deferwrap1": in the function before */
	for (i = 0; name[i]; i++) {
		if (name[i] != '.' || !numbered(name + i + 1, closures))
			continue;
		if (last && (numbered(last + 1, closures) || numbered(last + 1, digits)))
			sb_printf(sb, "; a closure in %.*s: its captured variables are not "
				      "arguments",
				  (int)(last - name), name);
		return;
	}
	if (!br || (last && last < br))
		return;
	if (strstr(name, "go.shape."))
		sb_printf(sb, "; generic, shape instantiation: it takes a dictionary first (after "
			      "a method's receiver)%s",
			  layout ? ", which the layout does not show" : "");
	else if (strstr(name, "[...]"))
		sb_printf(sb, "; generic instantiation (the binary does not name its type "
			      "arguments)%s",
			  layout ? ": a shape instantiation takes a dictionary first (after a "
				   "method's receiver), which the layout does not show"
				 : "");
	else
		sb_puts(sb, "; generic instantiation: a wrapper that calls the shape instantiation "
			    "with its dictionary");
}

int listing__functions(const char *path, const char *shown, const char *glob)
{
	const struct gobin_func **funcs;
	struct binary *b;
	struct strbuf sb;
	size_t n, i;

	if (binary__open(path, &b))
		return fail(lp_lasterr());
	n = gobin__glob(b->gb, glob ? glob : "*", NULL, 0);
	funcs = calloc(n ? n : 1, sizeof(*funcs));
	if (!funcs) {
		binary__free(b);
		return fail("out of memory");
	}
	gobin__glob(b->gb, glob ? glob : "*", funcs, n);
	sb_init(&sb);
	for (i = 0; i < n; i++) {
		const char *from;

		sb_reset(&sb);
		sb_printf(&sb, "0x%-10llx %s", (unsigned long long)funcs[i]->entry, funcs[i]->name);
		from = describe(&sb, b, funcs[i]);
		if (from) {
			sb_printf(&sb, "  # %s", from);
			put_kind(&sb, funcs[i]->name, strcmp(from, "layout only") == 0);
		}
		puts(sb_str(&sb));
	}
	if (!n && glob)
		fprintf(stderr, "luprobe: %s: no function matches in %s\n", glob,
			shown ? shown : path);
	sb_free(&sb);
	free(funcs);
	binary__free(b);
	return n || !glob ? 0 : 1;
}

int listing__pid_exe(long pid, char *path, size_t pathsz, char *shown, size_t shownsz)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int err;

	snprintf(path, pathsz, "/proc/%ld/exe", pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0 || stat(path, &st) < 0) {
		err = -errno;
		if (err == -ENOENT)
			lp_seterr("process %ld: no such process (or it is a kernel thread)", pid);
		else if (err == -EACCES && geteuid() != 0)
			lp_seterr("process %ld: cannot read its executable: permission denied "
				  "(another user's process: it needs root or CAP_SYS_PTRACE; "
				  "see luprobe --check)",
				  pid);
		else
			lp_seterr("process %ld: cannot read its executable: %s", pid,
				  strerror(-err));
		return err;
	}
	target[n] = '\0';
	/* the magic link opens the inode the process runs, deleted or replaced since */
	snprintf(shown, shownsz, "%s (process %ld)", target, pid);
	return 0;
}

static const char *pcln_name(enum gobin_pcln p)
{
	switch (p) {
	case GOBIN_PCLN_12:
		return "Go 1.2-1.15";
	case GOBIN_PCLN_116:
		return "Go 1.16-1.17";
	case GOBIN_PCLN_118:
		return "Go 1.18-1.19";
	case GOBIN_PCLN_120:
		return "Go 1.20+";
	}
	return "?";
}

/* How many functions each signature source covers, as a probe would take them. */
static void print_coverage(struct binary *b)
{
	const char *names[] = {"DWARF", "std table", "runtime types", "layout only"};
	size_t count[5] = {0}, i, k, n = gobin__nfuncs(b->gb);
	struct strbuf sb;

	sb_init(&sb);
	for (i = 0; i < n; i++) {
		const char *from;

		sb_reset(&sb);
		from = describe(&sb, b, gobin__func(b->gb, i));
		for (k = 0; k < 4 && (!from || strcmp(from, names[k]) != 0); k++)
			;
		count[k]++;
	}
	sb_free(&sb);
	printf("signatures: %zu functions: %zu DWARF, %zu std table, %zu runtime types, %zu "
	       "layout only, %zu none\n",
	       n, count[0], count[1], count[2], count[3], count[4]);
}

int listing__info(const char *path, const char *shown)
{
	const struct gobin_info *in;
	struct binary *b;

	if (binary__open(path, &b))
		return fail(lp_lasterr());
	in = gobin__info(b->gb);
	printf("file:       %s\n", shown ? shown : path);
	if (in->go_version[0])
		printf("go:         %s (from %s)\n", in->go_version,
		       in->version_from_buildinfo ? "buildinfo" : "version string");
	else
		printf("go:         1.%d or later (from the pclntab format)\n", in->go_minor);
	printf("abi:        %s\n",
	       in->regabi ? "register (ABIInternal; assembly uses ABI0)" : "stack (ABI0)");
	printf("arch:       %s\n", in->arch);
	printf("pie:        %s\n", in->pie ? "yes" : "no");
	printf("linking:    %s\n", in->static_link ? "static" : "dynamic");
	printf("cgo:        %s\n", in->cgo ? "yes" : "no");
	printf("symtab:     %s\n", in->has_symtab ? "yes" : "no");
	printf("dwarf:      %s\n", in->has_dwarf ? "yes" : "no");
	printf("buildinfo:  %s\n", in->has_buildinfo ? "yes" : "no");
	printf("pclntab:    %s format at 0x%llx\n", pcln_name(in->pcln),
	       (unsigned long long)in->pclntab_addr);
	printf("functions:  %zu\n", in->nfuncs);
	if (in->mod_path)
		printf("module:     %s\n", in->mod_path);
	print_coverage(b);
	binary__free(b);
	return 0;
}
