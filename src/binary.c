// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "binary.h"
#include "debugfile.h"
#include "rtype.h"
#include "signature.h"
#include "log.h"

/* The debug file of b by its build id, if one exists and matches; silently none otherwise. */
static void find_debug(struct binary *b)
{
	const char *dir = getenv("LUPROBE_DEBUG_DIR");
	char path[PATH_MAX];

	if (debugfile__find(b->gb, dir && *dir ? dir : NULL, path, sizeof(path)))
		return;
	if (binary__set_debug(b, path))
		pr_info("luprobe: %s: %s; not used\n", b->path, lp_lasterr());
	else
		pr_debug("%s: DWARF from %s (by build id)\n", b->path, path);
}

struct godwarf *binary__dwarf(struct binary *b)
{
	if (!b->dw_tried) {
		b->dw_tried = true;
		if (!gobin__info(b->gb)->has_dwarf && !b->debug_path)
			find_debug(b);
		if (gobin__info(b->gb)->has_dwarf) {
			if (godwarf__open_fd(b->fd, b->path, b->ts, &b->dw) < 0)
				b->dw = NULL;
		} else if (b->debug_path && godwarf__open(b->debug_path, b->ts, &b->dw) < 0) {
			b->dw = NULL;
		}
	}
	return b->dw;
}

int binary__set_debug(struct binary *b, const char *path)
{
	struct gobin *dbg;
	int err;

	if (b->debug_path) {
		if (strcmp(b->debug_path, path) == 0)
			return 0;
		lp_seterr("%s: two debug files given, %s and %s", b->path, b->debug_path, path);
		return -EINVAL;
	}
	if (gobin__info(b->gb)->has_dwarf)
		return 0; /* its own DWARF comes first */
	err = gobin__open(path, &dbg);
	if (err) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", lp_lasterr());
		lp_seterr("debug file %s", msg);
		return -EINVAL;
	}
	err = debugfile__match(b->gb, dbg, path);
	gobin__free(dbg);
	if (err)
		return err;
	b->debug_path = strdup(path);
	if (!b->debug_path)
		return -ENOMEM;
	b->dw_tried = false;
	return 0;
}

static int cs_cmp(const void *a, const void *b)
{
	const struct callsites *x = a, *y = b;

	return x->target < y->target ? -1 : x->target > y->target;
}

/* Find the call sites of the targets not looked at yet, in one pass over the file. */
int binary__find_callsites(struct binary *b, const uint64_t *targets, size_t n)
{
	struct callsites *add, *all;
	size_t i, k = 0;
	int err;

	add = calloc(n ? n : 1, sizeof(*add));
	if (!add)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct callsites key = {.target = targets[i]};

		if (!b->ncs || !bsearch(&key, b->cs, b->ncs, sizeof(*b->cs), cs_cmp))
			add[k++].target = targets[i];
	}
	qsort(add, k, sizeof(*add), cs_cmp);
	for (i = 0; i + 1 < k; i++) /* duplicates: one of each */
		if (add[i].target == add[i + 1].target) {
			memmove(&add[i], &add[i + 1], (k - i - 1) * sizeof(*add));
			k--, i--;
		}
	err = k ? callsites__find(b->gb, add, k) : 0;
	if (err || !k) {
		callsites__free(add, k);
		free(add);
		return err;
	}
	all = realloc(b->cs, (b->ncs + k) * sizeof(*all));
	if (!all) {
		callsites__free(add, k);
		free(add);
		return -ENOMEM;
	}
	memcpy(all + b->ncs, add, k * sizeof(*add));
	b->cs = all;
	b->ncs += k;
	qsort(b->cs, b->ncs, sizeof(*b->cs), cs_cmp);
	free(add);
	return 0;
}

const struct callsites *binary__callsites(struct binary *b, uint64_t target)
{
	struct callsites key = {.target = target};

	if (binary__find_callsites(b, &target, 1) || !b->ncs)
		return NULL;
	return bsearch(&key, b->cs, b->ncs, sizeof(*b->cs), cs_cmp);
}

/* g sits in the executable's TLS block, which ends at the thread pointer */
static int16_t tls_offset(const struct gobin *gb)
{
	uint64_t memsz, align, addr, size;

	if (gobin__tls(gb, &memsz, &align) == 0 &&
	    gobin__symbol(gb, "runtime.tlsg", &addr, &size) == 0) {
		if (!align)
			align = 1;
		memsz = (memsz + align - 1) / align * align;
		return (int16_t)(-(int64_t)memsz + (int64_t)addr);
	}
	return -8;
}

int binary__open(const char *path, struct binary **out)
{
	int fd = gobin__open_file(path), err;

	if (fd < 0) {
		*out = NULL;
		return fd;
	}
	err = binary__open_fd(path, fd, out);
	if (!err)
		(*out)->by_path = true;
	return err;
}

int binary__open_fd(const char *path, int fd, struct binary **out)
{
	const struct gobin_info *info;
	struct binary *b;
	struct stat st;
	int err;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	b->fd = fd;
	snprintf(b->fdpath, sizeof(b->fdpath), "/proc/self/fd/%d", fd);
	if (fstat(fd, &st) == 0) {
		b->dev = st.st_dev;
		b->ino = st.st_ino;
	}
	b->path = strdup(path);
	b->ts = gotypes__new();
	if (!b->path || !b->ts) {
		err = -ENOMEM;
		goto fail;
	}
	err = gobin__open_fd(fd, path, &b->gb);
	if (err)
		goto fail;
	info = gobin__info(b->gb);
	err = goruntime__for_version(info->go_minor, &b->rt);
	if (err) {
		lp_seterr("%s: built by %s; luprobe supports Go 1.13 and later", path,
			  info->go_version[0] ? info->go_version : "an unknown Go release");
		goto fail;
	}
	/*
	 * The table is checked against DWARF for every release it lists (unit
	 * tests); DWARF, slow to decompress, is asked only about a release the
	 * table had to guess for.
	 */
	/* Go 1.24 and 1.25 built with GOEXPERIMENT=noswissmap keep the old maps */
	if (b->rt.swiss_maps && info->go_minor < 26 &&
	    ((info->build_settings && strstr(info->build_settings, "noswissmap")) ||
	     strstr(info->go_version, "noswissmap")))
		b->rt.swiss_maps = false;
	if (info->has_dwarf && (b->rt.go_minor != info->go_minor || !info->go_version[0]))
		goruntime__from_dwarf(b->fdpath, &b->rt);
	b->tls_off = tls_offset(b->gb);
	*out = b;
	return 0;
fail:
	binary__free(b);
	return err;
}

bool binary__replaced(const struct binary *b)
{
	struct stat st;

	if (strncmp(b->path, "/proc/", 6) == 0)
		return false;
	return stat(b->path, &st) < 0 || st.st_dev != b->dev || st.st_ino != b->ino;
}

struct rtypes *binary__rtypes(struct binary *b)
{
	if (!b->rtypes_tried) {
		b->rtypes_tried = true;
		if (rtypes__open(b->gb, &b->rtypes))
			b->rtypes = NULL;
	}
	return b->rtypes;
}

/* A named type as the binary's runtime type descriptors give it (its exact layout). */
static const struct gotype *binary_type(void *ctx, const char *name)
{
	struct binary *b = ctx;
	struct rtypes *rt = binary__rtypes(b);
	const struct rtype *t = rt ? rtypes__lookup(rt, name) : NULL;

	return t ? rtypes__gotype(rt, t, b->ts) : NULL;
}

struct sigsrc *binary__sigsrc(struct binary *b)
{
	if (!b->sig)
		b->sig = sigsrc__new(b->ts, gobin__info(b->gb)->go_minor, binary_type, b);
	return b->sig;
}

void binary__free(struct binary *b)
{
	if (!b)
		return;
	godwarf__free(b->dw);
	sigsrc__free(b->sig);
	free(b->debug_path);
	rtypes__free(b->rtypes);
	disasm__check_release(&b->check);
	callsites__free(b->cs, b->ncs);
	free(b->cs);
	gobin__free(b->gb);
	gotypes__free(b->ts);
	free(b->path);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

int binary__check_site(struct binary *b, uint64_t vaddr, const struct gobin_func *f)
{
	const struct gobin_func *h = gobin__func_at(b->gb, vaddr);
	char in[600] = "";
	int err;

	if (!h) {
		lp_seterr("%s: probe site 0x%lx is in no function of %s; no probe placed", f->name,
			  (unsigned long)vaddr, b->path);
		return -EINVAL;
	}
	if (h != f) /* a call site */
		snprintf(in, sizeof(in), "%s: its call site 0x%lx is in ", f->name,
			 (unsigned long)vaddr);
	err = disasm__check(b->gb, h, &b->check);
	if (err == -EINVAL && b->check.empty) {
		lp_seterr("%s%s: no code in %s, only padding (a marker, not a function); no probe "
			  "placed",
			  in, h->name, b->path);
	} else if (err == -EINVAL && b->check.undecodable) {
		lp_seterr("%s%s: cannot decode the instruction at 0x%lx in %s; no probe placed", in,
			  h->name, (unsigned long)b->check.undecodable, b->path);
	} else if (err == -EINVAL) {
		lp_seterr("%s%s: entry 0x%lx in %s is not where a function can start (%s); the "
			  "binary's function table looks corrupt",
			  in, h->name, (unsigned long)h->entry, b->path, b->check.why);
	} else if (!err && !disasm__is_start(&b->check, vaddr)) {
		lp_seterr("%s: probe site 0x%lx in %s does not start an instruction of %s decoded "
			  "from its entry; no probe placed",
			  f->name, (unsigned long)vaddr, b->path, h->name);
		err = -EINVAL;
	}
	return err;
}

int binary__recovery_site(struct binary *b, uint64_t *site)
{
	const struct gobin_func *f = gobin__find_func(b->gb, "runtime.recovery");
	uint64_t sites[2];
	int n;

	if (!f) {
		lp_seterr("%s has no runtime.recovery: within = cannot tell when a recovered "
			  "panic ends a scope",
			  b->path);
		return -ENOENT;
	}
	n = disasm__calls_to(b->gb, f, "runtime.gogo", sites, 2);
	if (n < 0)
		return n;
	if (n != 1 || b->rt.g_sched_sp != b->rt.g_sched) {
		lp_seterr("%s: runtime.recovery calls runtime.gogo %d times, not once as in Go "
			  "1.13 to 1.27: within = cannot tell when a recovered panic ends a scope",
			  b->path, n);
		return -EINVAL;
	}
	*site = sites[0];
	/* a probe site like any other: checked before anything is built on it */
	return binary__check_site(b, sites[0], f);
}
