/* SPDX-License-Identifier: BSD-2-Clause */
/* A growable byte buffer for building output lines. */
#ifndef LUPROBE_STRBUF_H
#define LUPROBE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
	int oom; /* an allocation failed: the content is truncated */
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_add(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v in the fewest digits that read back as it (as float when single); NaN, +Inf, -Inf */
void sb_float(struct strbuf *sb, double v, bool single);
/* The content as a C string ("" when empty). */
const char *sb_str(const struct strbuf *sb);

#endif
