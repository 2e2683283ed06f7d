// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include "ring.h"

/* Publish the position at least this often within a long batch. */
#define RING_RELEASE_EVERY (256 * 1024)

struct ring {
	int fd;
	size_t page, size, mask;
	unsigned long *consumer; /* read-write page */
	unsigned long *producer; /* read-only: the producer page, then the data */
	uint8_t *data;
	uint8_t *wrap; /* a record that wraps around the end, made whole */
	ring_fn fn;
	void *ctx;
	uint64_t batches, cut; /* batches consumed, and those the time limit ended */
};

/* The cheap clock (a few ns, a tick's resolution): read after every record. */
static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

struct ring *ring__open(int map_fd, size_t size, ring_fn fn, void *ctx)
{
	struct ring *r = calloc(1, sizeof(*r));
	void *p;

	if (!r)
		return NULL;
	r->fd = map_fd;
	r->page = sysconf(_SC_PAGESIZE);
	r->size = size;
	r->mask = size - 1;
	r->fn = fn;
	r->ctx = ctx;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->consumer = p;
	/*
	 * The kernel offers the data pages twice in a row, so that no record
	 * wraps; mapping them once and copying the rare record that wraps keeps
	 * the ring's pages counted once in the resident set, not twice.
	 */
	p = mmap(NULL, r->page + size, PROT_READ, MAP_SHARED, map_fd, r->page);
	if (p == MAP_FAILED)
		goto fail;
	r->wrap = malloc(size);
	if (!r->wrap) {
		munmap(p, r->page + size);
		goto fail;
	}
	r->producer = p;
	r->data = (uint8_t *)p + r->page;
	return r;
fail:
	ring__close(r);
	return NULL;
}

int ring__fd(const struct ring *r)
{
	return r->fd;
}

int ring__consume(struct ring *r, uint64_t budget_ns, bool *more)
{
	unsigned long cons = __atomic_load_n(r->consumer, __ATOMIC_RELAXED), prod, released = cons;
	uint64_t deadline = budget_ns ? coarse_ns() + budget_ns : 0;
	bool cut = false;
	int n = 0, err = 0;

	/* what is there now, not what comes meanwhile: a fast producer would never let go */
	prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	while (cons < prod) {
		uint32_t *hdr = (uint32_t *)(r->data + (cons & r->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		unsigned long next;

		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not yet committed */
		next = cons + (((len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7ul);
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			size_t at = ((uint8_t *)hdr - r->data) + BPF_RINGBUF_HDR_SZ;
			void *rec = r->data + (at & r->mask);

			if ((at & r->mask) + len > r->size) {
				size_t first = r->size - (at & r->mask);

				memcpy(r->wrap, rec, first);
				memcpy(r->wrap + first, r->data, len - first);
				rec = r->wrap;
			}
			err = r->fn(r->ctx, rec, len);
			if (err < 0)
				break; /* the record stays */
			n++;
		}
		cons = next;
		if (cons - released >= RING_RELEASE_EVERY) {
			__atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
			released = cons;
		}
		if (deadline && cons < prod && coarse_ns() >= deadline) {
			cut = true;
			break;
		}
	}
	if (cons != released)
		__atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
	if (n) {
		r->batches++;
		r->cut += cut;
	}
	if (more)
		*more = err >= 0 &&
			(cut ||
			 (cons == prod && cons < __atomic_load_n(r->producer, __ATOMIC_ACQUIRE)));
	return err < 0 ? err : n;
}

size_t ring__pending(const struct ring *r, bool (*counts)(const void *rec))
{
	unsigned long cons = __atomic_load_n(r->consumer, __ATOMIC_RELAXED);
	unsigned long prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	size_t n = 0;

	while (cons < prod) {
		uint32_t len =
			__atomic_load_n((uint32_t *)(r->data + (cons & r->mask)), __ATOMIC_ACQUIRE);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		/* a record starts 8-aligned: its first 8 bytes never wrap */
		if (!(len & BPF_RINGBUF_DISCARD_BIT) &&
		    counts(r->data + ((cons + BPF_RINGBUF_HDR_SZ) & r->mask)))
			n++;
		cons += ((len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
	}
	return n;
}

void ring__batches(const struct ring *r, uint64_t *batches, uint64_t *cut)
{
	*batches = r->batches;
	*cut = r->cut;
}

void ring__close(struct ring *r)
{
	if (!r)
		return;
	if (r->consumer)
		munmap(r->consumer, r->page);
	if (r->producer)
		munmap(r->producer, r->page + r->size);
	free(r->wrap);
	free(r);
}
