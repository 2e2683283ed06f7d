// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "disasm.h"
#include "log.h"
#include "probe.h"
#include "strbuf.h"

#define DEFAULT_LIMIT 1000

int probe_set__binary(struct probe_set *ps, const char *path, int fd, struct binary **out)
{
	bool by_path = fd < 0;
	struct binary *b;
	struct stat st;
	int err;

	if (by_path) {
		/* a path: the file read first stands for it all run, unless resolved again */
		for (b = ps->bins; b; b = b->next) {
			if (b->by_path && !b->replaced && strcmp(b->path, path) == 0) {
				*out = b;
				return 0;
			}
		}
		fd = gobin__open_file(path);
		if (fd < 0)
			return fd;
	} else {
		/* a process's executable: the inode it runs */
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0 || fstat(fd, &st) < 0) {
			err = -errno;
			lp_seterr("%s: %s", path, strerror(-err));
			if (fd >= 0)
				close(fd);
			return err;
		}
		for (b = ps->bins; b; b = b->next) {
			if (b->dev == st.st_dev && b->ino == st.st_ino) {
				close(fd);
				*out = b;
				return 0;
			}
		}
	}
	err = binary__open_fd(path, fd, &b);
	if (!err && ps->debug_file)
		err = binary__set_debug(b, ps->debug_file);
	if (err) {
		binary__free(b);
		return err;
	}
	b->by_path = by_path;
	b->next = ps->bins;
	ps->bins = b;
	*out = b;
	return 0;
}

int probe_set__add(struct probe_set *ps, struct probe_spec *spec, struct probe **out)
{
	struct probe *p, **np;

	np = realloc(ps->probes, (ps->nprobes + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	ps->probes = np;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->id = ps->nprobes;
	p->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	p->enabled = p->spec.enabled;
	ps->probes[ps->nprobes++] = p;
	*out = p;
	return 0;
}

const struct planinfo *probe_set__plan(const struct probe_set *ps, uint32_t idx)
{
	if (idx >= ps->plans_cap || !ps->plans[idx].probe)
		return NULL;
	return &ps->plans[idx];
}

struct planinfo *probe_set__new_planinfo(struct probe_set *ps, uint32_t idx)
{
	if (idx >= ps->plans_cap) {
		size_t cap = ps->plans_cap ? ps->plans_cap * 2 : 64;
		struct planinfo *n;

		while (cap <= idx)
			cap *= 2;
		n = realloc(ps->plans, cap * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + ps->plans_cap, 0, (cap - ps->plans_cap) * sizeof(*n));
		ps->plans = n;
		ps->plans_cap = cap;
	}
	return &ps->plans[idx];
}

int probe__add_point(struct probe *p, struct binary *b, uint64_t vaddr, uint64_t cookie, pid_t pid,
		     const struct gobin_func *f, bool is_ret)
{
	uint64_t off;

	if (gobin__vaddr_to_offset(b->gb, vaddr, &off)) {
		lp_seterr("%s: address 0x%lx is not backed by %s", f->name, (unsigned long)vaddr,
			  b->path);
		return -EINVAL;
	}
	if (p->npoints == p->points_cap) {
		size_t cap = p->points_cap ? p->points_cap * 2 : 16;
		struct attach_point *n = realloc(p->points, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->points = n;
		p->points_cap = cap;
	}
	p->points[p->npoints++] = (struct attach_point){
		.is_ret = is_ret, .bin = b, .offset = off, .cookie = cookie, .pid = pid};
	return 0;
}

static bool point_needed(const struct probe *p, const struct attach_point *ap)
{
	if (ap->is_recover)
		return p->scope;
	if (ap->is_spawn)
		return p->scope_spawn;
	return !ap->is_ret || p->spec.ret_mode != PR_NONE || p->scope;
}

void probe__reset_pid(struct probe *p, pid_t pid, const struct binary *keep)
{
	size_t i, k;

	for (i = 0, k = 0; i < p->npoints; i++) {
		struct attach_point *ap = &p->points[i];

		if (ap->pid == pid && ap->bin != keep)
			continue;
		if (ap->pid == pid)
			ap->attached = false;
		p->points[k++] = *ap;
	}
	p->npoints = k;
}

int probe__attach(struct probe_set *ps, struct probe *p)
{
	uint64_t *offsets, *cookies;
	size_t i, j, n, *which;
	int err = 0;

	offsets = calloc(p->npoints + 1, sizeof(*offsets));
	cookies = calloc(p->npoints + 1, sizeof(*cookies));
	which = calloc(p->npoints + 1, sizeof(*which));
	if (!offsets || !cookies || !which) {
		err = -ENOMEM;
		goto out;
	}
	/* one link per binary and process, for the points not attached yet */
	for (i = 0; i < p->npoints && !err; i = j) {
		struct attach_point *first = &p->points[i];

		for (j = i, n = 0; j < p->npoints; j++) {
			struct attach_point *ap = &p->points[j];

			if (ap->bin != first->bin || ap->pid != first->pid)
				break;
			if (ap->attached || !point_needed(p, ap))
				continue;
			offsets[n] = ap->offset;
			cookies[n] = ap->cookie;
			which[n++] = j;
		}
		err = tracer__attach(ps->tracer, first->bin->fdpath, first->bin->path, offsets,
				     cookies, n, first->pid);
		while (!err && n)
			p->points[which[--n]].attached = true;
	}
	if (!err)
		err = tracer__set_probe_enabled(ps->tracer, p->id, p->enabled);
out:
	free(offsets);
	free(cookies);
	free(which);
	return err;
}

int probe__update_plans(struct probe_set *ps, struct probe *p)
{
	size_t i;
	int err;

	for (i = 0; i < p->nplans; i++) {
		struct planinfo *pi = &ps->plans[p->plans[i]];
		struct lp_plan *bp = plan__bpf(pi->pb);

		bp->flags &= ~(LP_PF_NOEVENT | LP_PF_SCOPE | LP_PF_SCOPE_SPAWN);
		if (p->naggs && !p->has_handlers)
			bp->flags |= LP_PF_NOEVENT;
		if (p->scope)
			bp->flags |= LP_PF_SCOPE;
		if (p->scope_spawn)
			bp->flags |= LP_PF_SCOPE_SPAWN;
		if (bp->flags & LP_PF_NOEVENT) {
			struct lp_plan pruned = *bp;

			plan__prune(&pruned);
			err = tracer__set_plan(ps->tracer, p->plans[i], &pruned);
		} else {
			err = tracer__set_plan(ps->tracer, p->plans[i], bp);
		}
		if (err)
			return err;
	}
	return 0;
}

/* Does the plan look a key up in a Go map (the kernel's map scan must be loaded)? */
static bool plan_looks_up(const struct lp_plan *p)
{
	unsigned i;

	for (i = 0; i < (unsigned)p->nentry + p->nret && i < LP_MAX_OPS; i++)
		if (p->ops[i].code == LP_OP_MAPGET)
			return true;
	return false;
}

void probe_set__needs(const struct probe_set *ps, struct tracer_needs *needs)
{
	size_t i;

	memset(needs, 0, sizeof(*needs));
	for (i = 0; i < ps->nprobes; i++) {
		needs->scopes |= ps->probes[i]->scope;
		/* the spawn and goroutine-exit sites read g from TLS under the stack ABI */
		needs->tls |= ps->probes[i]->scope_spawn;
	}
	for (i = 0; i < ps->plans_cap; i++) {
		const struct planinfo *pi = &ps->plans[i];
		uint32_t bytes;

		if (!pi->probe)
			continue;
		needs->stacks |= pi->probe->spec.stack || (plan__bpf(pi->pb)->flags & LP_PF_STACK);
		needs->aggs |= plan__bpf(pi->pb)->naggs > 0;
		needs->maps |= plan_looks_up(plan__bpf(pi->pb));
		/* RET sites are attached for results, or while the probe is a scope */
		needs->tls |= pi->tls_entry || (pi->tls_rets && (pi->want_ret || pi->probe->scope));
		if (!pi->want_ret)
			continue;
		/* the call map keeps the entry record of each call in flight: say whose */
		needs->calls = true;
		bytes = plan__entry_bytes(pi->pb);
		if (bytes > needs->call_bytes || !needs->call_why[0]) {
			needs->call_bytes = bytes > needs->call_bytes ? bytes : needs->call_bytes;
			snprintf(needs->call_why, sizeof(needs->call_why), "%s with strcap %d",
				 pi->func->name, pi->probe->spec.popts.strcap);
		}
	}
}

void probe_spec__free(struct probe_spec *spec)
{
	size_t i;

	free(spec->func);
	free(spec->target);
	free(spec->debug);
	free(spec->where);
	for (i = 0; i < spec->nargs; i++) {
		free(spec->args[i].name);
		free(spec->args[i].type);
		free(spec->args[i].fallback);
	}
	free(spec->args);
	for (i = 0; i < spec->nrets; i++) {
		free(spec->rets[i].name);
		free(spec->rets[i].type);
		free(spec->rets[i].fallback);
	}
	free(spec->rets);
	for (i = 0; i < spec->nbounded; i++)
		free(spec->bounded[i]);
	free(spec->bounded);
	memset(spec, 0, sizeof(*spec));
}

void probe_set__free(struct probe_set *ps)
{
	struct binary *b, *next;
	size_t i;

	for (i = 0; i < ps->plans_cap; i++) {
		plan__free(ps->plans[i].pb);
		free(ps->plans[i].params);
		free(ps->plans[i].ploc);
		free(ps->plans[i].rloc);
	}
	free(ps->plans);
	for (i = 0; i < ps->nprobes; i++) {
		probe_spec__free(&ps->probes[i]->spec);
		free(ps->probes[i]->plans);
		free(ps->probes[i]->points);
		free(ps->probes[i]);
	}
	free(ps->probes);
	for (b = ps->bins; b; b = next) {
		next = b->next;
		binary__free(b);
	}
	memset(ps, 0, sizeof(*ps));
}
