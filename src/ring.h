/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LUPROBE_RING_H
#define LUPROBE_RING_H
#include <stddef.h>

/*
 * The consumer side of a BPF ring buffer map. Unlike libbpf's, it publishes
 * its position once per batch instead of once per record: the producer
 * reads that position on every reservation, and a cache line that moves
 * between the two CPUs on every record costs the traced thread more than
 * the copy.
 */
struct ring;

/* fn returns < 0 to stop the batch (the record counts as consumed). */
typedef int (*ring_fn)(void *ctx, void *data, size_t size);

struct ring *ring__open(int map_fd, size_t size, ring_fn fn, void *ctx);
/* Consume what is there: the number of records, or the callback's error. */
int ring__consume(struct ring *r);
/* A file descriptor that polls readable when the producer wakes the consumer. */
int ring__fd(const struct ring *r);
void ring__close(struct ring *r);

#endif
