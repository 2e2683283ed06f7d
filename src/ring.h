/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LUPROBE_RING_H
#define LUPROBE_RING_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The consumer side of a BPF ring buffer map. Unlike libbpf's, it publishes
 * its position once per batch instead of once per record: the producer
 * reads that position on every reservation, and a cache line that moves
 * between the two CPUs on every record costs the traced thread more than
 * the copy.
 */
struct ring;

/* fn returns < 0 to stop the batch before this record (it stays in the ring). */
typedef int (*ring_fn)(void *ctx, void *data, size_t size);

struct ring *ring__open(int map_fd, size_t size, ring_fn fn, void *ctx);
/*
 * Consume the records there when called, not those that arrive meanwhile,
 * and for at most budget_ns (0: no limit; checked after each record), so
 * that the caller gets its turn however fast records come and however slow
 * fn is. Returns the number of records, or fn's error; *more (may be NULL)
 * says that more could be consumed at once.
 */
int ring__consume(struct ring *r, uint64_t budget_ns, bool *more);
/* Records committed and not consumed that counts() accepts (nothing is consumed). */
size_t ring__pending(const struct ring *r, bool (*counts)(const void *rec));
/* Batches that consumed records, and those of them the time limit ended. */
void ring__batches(const struct ring *r, uint64_t *batches, uint64_t *cut);
/* A file descriptor that polls readable when the producer wakes the consumer. */
int ring__fd(const struct ring *r);
void ring__close(struct ring *r);

#endif
