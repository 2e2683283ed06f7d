// SPDX-License-Identifier: BSD-2-Clause
/*
 * The table of the Go standard library's signatures (stdsig.h). The build
 * puts src/go/stdsig.tab into the binary gzip-compressed (Makefile,
 * stdsig_tab.o); the first call inflates it, cuts it into NUL-terminated
 * lines and indexes them, so that a lookup is a binary search. Nothing is
 * done before that call: scripts that never ask pay nothing.
 */
#define ZLIB_CONST
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>
#include "log.h"
#include "stdsig.h"

/* src/go/stdsig.tab, compressed with gzip (Makefile) */
extern const unsigned char stdsig_gz[];
extern const uint64_t stdsig_gz_size;

/* A symbol longer than this is in no table (the longest has 58 bytes). */
#define MAX_SYMBOL 512

static struct {
	pthread_once_t once;
	int err;
	char *text;
	int go_minor;
	char **funcs; /* lines of the funcs section, in symbol order */
	size_t nfuncs;
	char **types; /* lines of the types section, in name order */
	size_t ntypes;
} tab = {.once = PTHREAD_ONCE_INIT};

/* Compare key with the first field of a table line (up to its tab), as Go orders strings. */
static int keycmp(const char *key, const char *line)
{
	size_t i;

	for (i = 0; key[i] && line[i] && line[i] != '\t'; i++) {
		if (key[i] != line[i])
			return (unsigned char)key[i] - (unsigned char)line[i];
	}
	if (!key[i])
		return line[i] && line[i] != '\t' ? -1 : 0;
	return 1;
}

/* Order of two table lines by their first fields. */
static int linecmp(const char *a, const char *b)
{
	size_t n = strcspn(a, "\t");
	char key[MAX_SYMBOL + 1];

	if (n > MAX_SYMBOL)
		return 1;
	memcpy(key, a, n);
	key[n] = '\0';
	return keycmp(key, b);
}

/* The next line, NUL-terminated in place; NULL at the end. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (!*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

/* A section: "name\tN" and N lines of at least two fields, in order. */
static int read_section(char **p, const char *name, size_t max, char ***lines, size_t *n)
{
	char *line = next_line(p), *end;
	size_t len = strlen(name), i;

	if (!line || strncmp(line, name, len) != 0 || line[len] != '\t')
		return -EINVAL;
	errno = 0;
	*n = strtoul(line + len + 1, &end, 10);
	if (errno || *end || *n > max)
		return -EINVAL;
	*lines = calloc(*n + 1, sizeof(**lines));
	if (!*lines)
		return -ENOMEM;
	for (i = 0; i < *n; i++) {
		line = next_line(p);
		if (!line || !strchr(line, '\t') || strcspn(line, "\t") > MAX_SYMBOL ||
		    strlen(line) >= STDSIG_BUFLEN)
			return -EINVAL;
		/* entries of one symbol follow each other: equal keys are in order */
		if (i && linecmp((*lines)[i - 1], line) > 0)
			return -EINVAL;
		(*lines)[i] = line;
	}
	return 0;
}

/* "since" or "since-until" after the symbol's tab. */
static int read_releases(const char *line, int *since, int *until)
{
	const char *p = strchr(line, '\t');
	char *end;

	if (!p)
		return -EINVAL;
	*since = (int)strtol(p + 1, &end, 10);
	*until = 0;
	if (*end == '-')
		*until = (int)strtol(end + 1, &end, 10);
	return *end == '\t' && end > p + 1 ? 0 : -EINVAL;
}

static int inflate_table(void)
{
	const unsigned char *trailer;
	z_stream z = {0};
	uint32_t isize;
	int ret;

	/* gzip ends with the uncompressed size (mod 2^32: the table is far smaller) */
	if (stdsig_gz_size < 18 || stdsig_gz_size > UINT32_MAX)
		return -EINVAL;
	trailer = stdsig_gz + stdsig_gz_size - 4;
	isize = trailer[0] | trailer[1] << 8 | (uint32_t)trailer[2] << 16 |
		(uint32_t)trailer[3] << 24;
	/* deflate shrinks by 1032:1 at most: a larger size is a damaged trailer */
	if (isize / 1032 > stdsig_gz_size)
		return -EINVAL;
	tab.text = malloc((size_t)isize + 1);
	if (!tab.text)
		return -ENOMEM;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = stdsig_gz;
	z.avail_in = (uInt)stdsig_gz_size;
	z.next_out = (Bytef *)tab.text;
	z.avail_out = isize;
	ret = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (ret != Z_STREAM_END || z.total_out != isize)
		return -EINVAL;
	tab.text[isize] = '\0';
	return 0;
}

static void load_once(void)
{
	char *p, *line, *end;
	int err;

	err = inflate_table();
	if (err)
		goto fail;
	p = tab.text;
	while ((line = next_line(&p)) && line[0] == '#')
		;
	err = -EINVAL;
	if (!line || strncmp(line, "go\t", 3) != 0)
		goto fail;
	tab.go_minor = (int)strtol(line + 3, &end, 10);
	if (*end || tab.go_minor <= 0)
		goto fail;
	err = read_section(&p, "funcs", strlen(p) / 8, &tab.funcs, &tab.nfuncs);
	if (err)
		goto fail;
	for (size_t i = 0; i < tab.nfuncs; i++) {
		int since, until;

		err = read_releases(tab.funcs[i], &since, &until);
		if (err)
			goto fail;
	}
	err = read_section(&p, "types", strlen(p) / 4, &tab.types, &tab.ntypes);
	if (err)
		goto fail;
	for (size_t i = 0; i < tab.ntypes; i++) {
		/* name, class, underlying type */
		if (!strchr(strchr(tab.types[i], '\t') + 1, '\t')) {
			err = -EINVAL;
			goto fail;
		}
	}
	if (*p) {
		err = -EINVAL;
		goto fail;
	}
	return;
fail:
	free(tab.funcs);
	free(tab.types);
	free(tab.text);
	tab.funcs = tab.types = NULL;
	tab.text = NULL;
	tab.nfuncs = tab.ntypes = 0;
	tab.err = err;
}

static int load(void)
{
	pthread_once(&tab.once, load_once);
	if (tab.err)
		lp_seterr("the table of Go standard library signatures built into luprobe is %s; "
			  "rebuild luprobe",
			  tab.err == -ENOMEM ? "too large for the memory left" : "damaged");
	return tab.err;
}

int stdsig__go_minor(void)
{
	int err = load();

	return err ? err : tab.go_minor;
}

/* First line whose key is >= key. */
static size_t lower_bound(char *const *lines, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (keycmp(key, lines[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* "name type|name type" (or "-") into ps[]; the string is cut in place. */
static int split_params(char *s, struct stdsig_param *ps, size_t *n)
{
	char *item, *sp;

	*n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	for (item = s; item; item = s) {
		s = strchr(item, '|');
		if (s)
			*s++ = '\0';
		sp = strchr(item, ' ');
		if (!sp || sp == item || !sp[1])
			return -EINVAL;
		if (*n == STDSIG_MAXPARAMS)
			return -E2BIG;
		*sp = '\0';
		ps[*n].name = strcmp(item, "_") == 0 ? NULL : item;
		ps[*n].type = sp + 1;
		(*n)++;
	}
	return 0;
}

static int parse_entry(const char *line, struct stdsig *out)
{
	size_t len = strlen(line), nf = 0;
	char *f[6], *p;
	int err;

	memset(out, 0, offsetof(struct stdsig, buf));
	if (len >= sizeof(out->buf))
		return -E2BIG;
	memcpy(out->buf, line, len + 1);
	f[nf++] = out->buf;
	for (p = out->buf; *p; p++) {
		if (*p != '\t')
			continue;
		if (nf == 6)
			return -EINVAL;
		*p = '\0';
		f[nf++] = p + 1;
	}
	if (nf < 5)
		return -EINVAL;
	out->symbol = f[0];
	err = read_releases(line, &out->since, &out->until);
	if (err)
		return err;
	for (p = f[2]; *p; p++) {
		if (*p == 'w')
			out->wrapper = true;
		else if (*p == 'v')
			out->variadic = true;
		else if (*p == 'g')
			out->generic = true;
		else if (*p != '-')
			return -EINVAL;
	}
	err = split_params(f[3], out->params, &out->nparams);
	if (!err)
		err = split_params(f[4], out->results, &out->nresults);
	if (err)
		return err;
	out->tparams = nf == 6 ? f[5] : NULL;
	return 0;
}

bool stdsig__in_release(const struct stdsig *s, int go_minor)
{
	return s->since <= go_minor && (!s->until || go_minor < s->until);
}

/* The line of key's entry in release go_minor, or NULL. */
static const char *find(const char *key, int go_minor)
{
	size_t i;

	for (i = lower_bound(tab.funcs, tab.nfuncs, key);
	     i < tab.nfuncs && keycmp(key, tab.funcs[i]) == 0; i++) {
		int since, until;

		if (read_releases(tab.funcs[i], &since, &until) == 0 && since <= go_minor &&
		    (!until || go_minor < until))
			return tab.funcs[i];
	}
	return NULL;
}

/*
 * The table's spelling of a binary's symbol: every instantiation's type
 * arguments as "[...]" ("slices.Sort[go.shape.[]int,go.shape.int]" ->
 * "slices.Sort[...]"); 0, or -ENOENT if it cannot be a table symbol.
 */
static int table_key(const char *sym, char *out, size_t len)
{
	size_t o = 0;
	int depth = 0;

	for (; *sym; sym++) {
		if (*sym == '[') {
			if (!depth++) {
				if (o + 5 >= len)
					return -ENOENT;
				memcpy(out + o, "[...]", 5);
				o += 5;
			}
			continue;
		}
		if (*sym == ']') {
			if (!depth--)
				return -ENOENT;
			continue;
		}
		if (depth)
			continue;
		if (o + 1 >= len)
			return -ENOENT;
		out[o++] = *sym;
	}
	if (depth)
		return -ENOENT;
	out[o] = '\0';
	return 0;
}

/* "pkg.(*T).M" -> "pkg.T.M"; -ENOENT if key is not a pointer method. */
static int value_method(const char *key, char *out, size_t len)
{
	const char *open = strstr(key, ".(*"), *close;

	if (!open)
		return -ENOENT;
	close = strstr(open + 3, ").");
	if (!close || (size_t)snprintf(out, len, "%.*s.%.*s%s", (int)(open - key), key,
				       (int)(close - open - 3), open + 3, close + 1) >= len)
		return -ENOENT;
	return 0;
}

int stdsig__lookup(const char *symbol, int go_minor, struct stdsig *out)
{
	char key[MAX_SYMBOL + 1], val[MAX_SYMBOL + 1];
	const char *line;
	size_t used, tlen;
	int err = load();

	if (err)
		return err;
	if (table_key(symbol, key, sizeof(key)))
		return -ENOENT;
	line = find(key, go_minor);
	if (line)
		return parse_entry(line, out);
	/* the compiler's (*T).M wrapper of a value method T.M, which the API does not list */
	if (value_method(key, val, sizeof(val)))
		return -ENOENT;
	line = find(val, go_minor);
	if (!line)
		return -ENOENT;
	err = parse_entry(line, out);
	if (err)
		return err;
	if (!out->nparams)
		return -ENOENT;
	/* the receiver's pointer type goes after the line's copy */
	used = strlen(line) + 1;
	tlen = strlen(out->params[0].type);
	if (used + 1 + tlen + 1 > sizeof(out->buf))
		return -E2BIG;
	out->buf[used] = '*';
	memcpy(out->buf + used + 1, out->params[0].type, tlen + 1);
	out->params[0].type = out->buf + used;
	out->ptr_wrapper = true;
	return 0;
}

size_t stdsig__count(void)
{
	return load() ? 0 : tab.nfuncs;
}

int stdsig__entry(size_t i, struct stdsig *out)
{
	int err = load();

	if (err)
		return err;
	if (i >= tab.nfuncs)
		return -ENOENT;
	return parse_entry(tab.funcs[i], out);
}

size_t stdsig__count_release(int go_minor)
{
	size_t i, n = 0;
	int since, until;

	if (load())
		return 0;
	for (i = 0; i < tab.nfuncs; i++) {
		if (read_releases(tab.funcs[i], &since, &until) == 0 && since <= go_minor &&
		    (!until || go_minor < until))
			n++;
	}
	return n;
}

/* --- named types --------------------------------------------------------------------------- */

static int parse_type(const char *line, struct stdsig_type *out)
{
	size_t len = strlen(line);
	char *cls, *spec;

	memset(out, 0, offsetof(struct stdsig_type, buf));
	if (len >= sizeof(out->buf))
		return -E2BIG;
	memcpy(out->buf, line, len + 1);
	cls = strchr(out->buf, '\t');
	spec = cls ? strchr(cls + 1, '\t') : NULL;
	if (!spec)
		return -EINVAL;
	*cls++ = '\0';
	*spec++ = '\0';
	out->name = out->buf;
	if (strcmp(cls, "fixed") == 0) {
		out->cls = STDSIG_FIXED;
	} else if (strcmp(cls, "iface") == 0) {
		out->cls = STDSIG_IFACE;
	} else if (strcmp(cls, "opaque") == 0) {
		out->cls = STDSIG_OPAQUE;
	} else if (sscanf(cls, "since1.%d", &out->layout_minor) == 1) {
		out->cls = STDSIG_SINCE;
	} else if (sscanf(cls, "guess1.%d", &out->layout_minor) == 1) {
		out->cls = STDSIG_GUESS;
	} else {
		return -EINVAL;
	}
	if ((strcmp(spec, "-") == 0) != (out->cls == STDSIG_IFACE || out->cls == STDSIG_OPAQUE))
		return -EINVAL;
	out->spec = strcmp(spec, "-") == 0 ? NULL : spec;
	return 0;
}

/* Index of the type named name, or -1. */
static ssize_t type_index(const char *name)
{
	size_t i = lower_bound(tab.types, tab.ntypes, name);

	return i < tab.ntypes && keycmp(name, tab.types[i]) == 0 ? (ssize_t)i : -1;
}

int stdsig__type(const char *name, struct stdsig_type *out)
{
	int err = load();
	ssize_t i;

	if (err)
		return err;
	i = type_index(name);
	return i < 0 ? -ENOENT : parse_type(tab.types[i], out);
}

size_t stdsig__ntypes(void)
{
	return load() ? 0 : tab.ntypes;
}

int stdsig__type_at(size_t i, struct stdsig_type *out)
{
	int err = load();

	if (err)
		return err;
	if (i >= tab.ntypes)
		return -ENOENT;
	return parse_type(tab.types[i], out);
}

struct stdsig_types {
	struct gotypes *ts;
	const struct gotype **memo; /* by index in the types section */
	int go_minor;		    /* the binary's release; -1: any */
	gotype_lookup_fn first;	    /* the binary's own types, preferred */
	void *first_ctx;
};

struct stdsig_types *stdsig_types__new(struct gotypes *ts)
{
	struct stdsig_types *st;

	if (load())
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->ts = ts;
	st->go_minor = -1;
	st->memo = calloc(tab.ntypes + 1, sizeof(*st->memo));
	if (!st->memo) {
		free(st);
		return NULL;
	}
	return st;
}

void stdsig_types__for(struct stdsig_types *st, int go_minor, gotype_lookup_fn first,
		       void *first_ctx)
{
	st->go_minor = go_minor;
	st->first = first;
	st->first_ctx = first_ctx;
}

/* Does the table's layout of the type on line hold in the binary's release? */
static bool layout_holds(const struct stdsig_types *st, const char *line)
{
	struct stdsig_type t;

	if (st->go_minor < 0 || parse_type(line, &t))
		return st->go_minor < 0;
	if (t.cls == STDSIG_SINCE)
		return st->go_minor >= t.layout_minor;
	if (t.cls == STDSIG_GUESS)
		return st->go_minor == t.layout_minor;
	return true;
}

void stdsig_types__free(struct stdsig_types *st)
{
	if (!st)
		return;
	free(st->memo);
	free(st);
}

const struct gotype *stdsig_types__lookup(void *ctx, const char *name)
{
	struct stdsig_types *st = ctx;
	const struct gotype *u;
	struct gotype *t;
	const char *line, *spec;
	ssize_t i;

	if (!st)
		return NULL;
	if (st->first) {
		u = st->first(st->first_ctx, name);
		if (u)
			return u;
	}
	i = type_index(name);
	if (i < 0)
		return NULL;
	if (st->memo[i])
		return st->memo[i];
	line = tab.types[i];
	spec = strchr(strchr(line, '\t') + 1, '\t') + 1;
	if (strncmp(strchr(line, '\t') + 1, "iface\t", 6) == 0) {
		t = gotypes__new_type(st->ts, GK_IFACE, name, 16, 8);
	} else if (strcmp(spec, "-") == 0 || !layout_holds(st, line)) {
		/*
		 * opaque, or a layout the binary's release may not have: a
		 * pointer to it can be written, not a value
		 */
		t = gotypes__new_type(st->ts, GK_INVALID, name, 0, 1);
	} else {
		/* a placeholder first, for the types that refer back to this one */
		t = gotypes__new_type(st->ts, GK_INVALID, name, 0, 1);
		if (!t)
			return NULL;
		st->memo[i] = t;
		if (gotypes__parse(st->ts, spec, stdsig_types__lookup, st, &u, NULL, 0)) {
			pr_debug("%s: its underlying type %s does not parse\n", name, spec);
			return NULL;
		}
		name = t->name;
		*t = *u;
		t->name = name;
	}
	st->memo[i] = t;
	return t;
}
