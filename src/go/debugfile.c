// SPDX-License-Identifier: BSD-2-Clause
/* Separate debug information (debugfile.h). */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "debugfile.h"
#include "log.h"

#define NOTE_ALIGN(n) (((n) + 3u) & ~3u)

int debugfile__build_id(const struct gobin *gb, char *hex, size_t len)
{
	struct gobin_section sec;
	size_t i;

	for (i = 0; gobin__section(gb, i, &sec); i++) {
		uint64_t off = 0;

		if (sec.type != SHT_NOTE || !sec.data)
			continue;
		/* the notes of the section: header, name, descriptor, each 4-aligned */
		while (off + sizeof(Elf64_Nhdr) <= sec.size) {
			const Elf64_Nhdr *nh = (const void *)(sec.data + off);
			uint64_t name = off + sizeof(*nh), desc = name + NOTE_ALIGN(nh->n_namesz);
			size_t k;

			if (desc + nh->n_descsz > sec.size)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(sec.data + name, "GNU", 4) == 0 && nh->n_descsz &&
			    2 * nh->n_descsz < len) {
				for (k = 0; k < nh->n_descsz; k++)
					snprintf(hex + 2 * k, 3, "%02x", sec.data[desc + k]);
				return (int)(2 * nh->n_descsz);
			}
			off = desc + NOTE_ALIGN(nh->n_descsz);
		}
	}
	return -ENOENT;
}

int debugfile__find(const struct gobin *gb, const char *dir, char *path, size_t len)
{
	char id[256];
	struct stat st;
	int n = debugfile__build_id(gb, id, sizeof(id));

	if (n < 4)
		return -ENOENT;
	if ((size_t)snprintf(path, len, "%s/.build-id/%.2s/%s.debug", dir ? dir : DEBUGFILE_DIR,
			     id, id + 2) >= len)
		return -ENOENT;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -ENOENT;
}

int debugfile__match(const struct gobin *gb, const struct gobin *dbg, const char *path)
{
	const struct gobin_info *a = gobin__info(gb), *b = gobin__info(dbg);
	char ida[256], idb[256];
	int na = debugfile__build_id(gb, ida, sizeof(ida));
	int nb = debugfile__build_id(dbg, idb, sizeof(idb));
	size_t i;

	if (!b->has_dwarf) {
		lp_seterr("debug file %s has no DWARF", path);
		return -EINVAL;
	}
	if (na > 0 && nb > 0 && strcmp(ida, idb) != 0) {
		lp_seterr("debug file %s is not of %s: its build id is %s, the binary's %s", path,
			  gobin__path(gb), idb, ida);
		return -EINVAL;
	}
	if (a->go_minor != b->go_minor ||
	    (a->go_version[0] && b->go_version[0] && strcmp(a->go_version, b->go_version) != 0)) {
		lp_seterr("debug file %s is not of %s: built by %s, the binary by %s", path,
			  gobin__path(gb), b->go_version[0] ? b->go_version : "another Go",
			  a->go_version[0] ? a->go_version : "another Go");
		return -EINVAL;
	}
	if (gobin__nfuncs(gb) != gobin__nfuncs(dbg)) {
		lp_seterr("debug file %s is not of %s: it has %zu functions, the binary %zu", path,
			  gobin__path(gb), gobin__nfuncs(dbg), gobin__nfuncs(gb));
		return -EINVAL;
	}
	for (i = 0; i < gobin__nfuncs(gb); i++) {
		const struct gobin_func *f = gobin__func(gb, i), *g = gobin__func(dbg, i);

		if (f->entry != g->entry || strcmp(f->name, g->name) != 0) {
			lp_seterr("debug file %s is not of %s: %s is at 0x%llx there, %s at 0x%llx "
				  "in the binary",
				  path, gobin__path(gb), g->name, (unsigned long long)g->entry,
				  f->name, (unsigned long long)f->entry);
			return -EINVAL;
		}
	}
	return 0;
}
