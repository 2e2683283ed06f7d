// SPDX-License-Identifier: BSD-2-Clause
/*
 * Go binary inspector: ELF layout, Go version and build settings, the
 * function table from the pclntab, .symtab, module data and type names.
 *
 * The file is mapped read-only and every read goes through a bounds check
 * against the file or against the table it belongs to: no length or offset
 * read from the file is trusted, and no loop runs longer than the bytes it
 * walks. Tables whose layout changed between Go releases are described by
 * small per-release tables rather than by C structs.
 *
 * This file opens and frees; gobin_elf.c reads the ELF layout,
 * gobin_version.c the Go version, gobin_pcln.c finds the function table,
 * gobin_func.c reads the functions in it, gobin_lookup.c matches names and
 * gobin_types.c reads type descriptors. gobin_internal.h is what they share.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gobin.h"
#include "gobin_internal.h"
#include "log.h"

/* Open and free */

int gobin__open_file(const char *path)
{
	int fd, err;

	/* O_NONBLOCK: opening a FIFO would wait for a writer; fstat refuses it after */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	err = -errno;
	if (err == -ENOENT || err == -ENOTDIR)
		lp_seterr("%s: no such file", path);
	else if (err == -EACCES || err == -EPERM)
		lp_seterr("%s: permission denied", path);
	else
		lp_seterr("%s: %s", path, strerror(-err));
	return err;
}

/* Map the file open at fd (named path in messages); fd stays open. */
static int map_fd(struct gobin *gb, int fd, const char *path)
{
	struct stat st;
	void *m;

	if (fstat(fd, &st) < 0) {
		lp_seterr("%s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		lp_seterr("%s: is a directory", path);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		lp_seterr("%s: not a regular file (%s)", path, lp_filekind(st.st_mode));
		return -EINVAL;
	}
	if (st.st_size < SELFMAG) {
		lp_seterr("%s: not an ELF file", path);
		return -ENOEXEC;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		int err = -errno;

		lp_seterr("%s: cannot map the file: %s", path, strerror(-err));
		return err;
	}
	gb->map = m;
	gb->size = (size_t)st.st_size;
	gb->mapped = true;
	return 0;
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

	err = gobin_parse_elf(gb);
	if (err)
		return err;
	err = gobin_load_relocs(gb);
	if (err)
		return err;
	err = gobin_load_symtab(gb);
	if (err)
		return err;
	gb->info.has_dwarf =
		gobin_find_section(gb, ".debug_info") || gobin_find_section(gb, ".zdebug_info");

	gobin_find_buildinfo(gb);
	if (!gb->info.go_version[0])
		gobin_find_version_string(gb);

	err = gobin_find_pcln(gb);
	if (err)
		return err;
	/* types and funcdata need it; a binary without it still traces */
	gobin_md_find(gb);
	err = gobin_check_text(gb);
	if (err)
		return err;
	err = gobin_load_funcs(gb);
	if (err)
		return err;
	set_go_facts(gb);
	gobin_fill_func_flags(gb);
	err = gobin_cross_check(gb);
	if (err)
		return err;
	err = gobin_build_index(gb);
	if (err)
		return err;
	detect_cgo(gb);
	pr_debug("gobin: %s: %s, pclntab %d at %#lx, %zu functions, text %#lx\n", gb->path,
		 gb->info.go_version[0] ? gb->info.go_version : "unknown Go version", gb->pc.fmt,
		 (unsigned long)gb->pc.addr, gb->info.nfuncs, (unsigned long)gb->pc.text);
	return 0;
}

/* Open with the bytes from the file open at fd (mapped) or from buf (borrowed). */
static int open_common(const char *path, int fd, const void *buf, size_t len, struct gobin **out)
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
		err = map_fd(gb, fd, path);
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
	int fd = gobin__open_file(path), err;

	if (fd < 0) {
		*out = NULL;
		return fd;
	}
	err = open_common(path, fd, NULL, 0, out);
	close(fd);
	return err;
}

int gobin__open_fd(int fd, const char *name, struct gobin **out)
{
	return open_common(name, fd, NULL, 0, out);
}

int gobin__open_mem(const void *buf, size_t len, const char *name, struct gobin **out)
{
	if (!buf) {
		*out = NULL;
		lp_seterr("%s: not an ELF file", name);
		return -ENOEXEC;
	}
	return open_common(name, -1, buf, len, out);
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
