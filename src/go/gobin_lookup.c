// SPDX-License-Identifier: BSD-2-Clause
/*
 * Functions by pattern (globs) and by likeness to a misspelt name.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"
#include "gobin_internal.h"
#include "log.h"

/* Globs */

/*
 * Rewrite a user pattern for fnmatch(3) with its brackets taken literally:
 * Go names contain them (instantiations "main.Map[go.shape.int]", array
 * types in "type:.eq.[2]string"), and "[...]", the runtime's way to print
 * any instantiation, matches one bracketed list. '*' and '?' stay wildcards
 * and a backslash still escapes.
 */
static char *literal_brackets(const char *pat)
{
	size_t n = strlen(pat);
	char *out = malloc(2 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (pat[i] == '\\' && i + 1 < n) {
			*o++ = pat[i++];
			*o++ = pat[i];
		} else if (strncmp(pat + i, "[...]", 5) == 0) {
			memcpy(o, "\\[*\\]", 5);
			o += 5;
			i += 4;
		} else {
			if (pat[i] == '[' || pat[i] == ']')
				*o++ = '\\';
			*o++ = pat[i];
		}
	}
	*o = '\0';
	return out;
}

/*
 * A pattern with brackets is tried both ways, as fnmatch character classes
 * ("main.[A-Z]*") and as the literal brackets of Go names: the two readings
 * rarely both match real names, so users need not escape either.
 */
size_t gobin__glob(const struct gobin *gb, const char *pattern, const struct gobin_func **out,
		   size_t max)
{
	size_t count = 0;
	char *lit = NULL;

	if (!gb || !pattern)
		return 0;
	if (!strpbrk(pattern, "*?[\\")) {
		const struct gobin_func *f = gobin__find_func(gb, pattern);

		if (f && max)
			out[0] = f;
		return f ? 1 : 0;
	}
	if (strpbrk(pattern, "[]")) {
		lit = literal_brackets(pattern);
		if (!lit)
			return 0;
	}
	for (size_t i = 0; i < gb->info.nfuncs; i++) {
		const char *name = gb->funcs[i].name;

		if (fnmatch(pattern, name, 0) != 0 && (!lit || fnmatch(lit, name, 0) != 0))
			continue;
		if (count < max)
			out[count] = &gb->funcs[i];
		count++;
	}
	free(lit);
	return count;
}

/* Suggestions */

#define LEV_MAX 256

/* Edit distance between a and b, or limit + 1 once it must exceed limit. */
static size_t levenshtein(const char *a, size_t la, const char *b, size_t lb, size_t limit)
{
	size_t row[LEV_MAX + 1];

	if (la > LEV_MAX || lb > LEV_MAX || (la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], best;

		row[0] = i;
		best = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t v = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > limit)
			return limit + 1;
	}
	return row[lb];
}

/* Length of the package path of a Go symbol: up to the first '.' after the last '/'. */
static size_t pkg_len(const char *name)
{
	const char *slash = strrchr(name, '/'), *dot;

	/* a '/' inside brackets or parentheses belongs to a type, not the path */
	for (const char *p = name; *p && (!slash || p < slash); p++) {
		if (*p == '[' || *p == '(') {
			slash = NULL;
			for (const char *q = name; q < p; q++)
				if (*q == '/')
					slash = q;
			break;
		}
	}
	dot = strchr(slash ? slash : name, '.');
	return dot ? (size_t)(dot - name) : 0;
}

struct sugg {
	const char *name;
	size_t score;
};

size_t gobin__suggest(const struct gobin *gb, const char *name, const char **out, size_t max)
{
	struct sugg best[16];
	size_t nbest = 0, len, plen, limit, cap = max < 16 ? max : 16;
	const char *local;

	if (!gb || !name || !cap)
		return 0;
	len = strlen(name);
	plen = pkg_len(name);
	local = plen ? NULL : name;
	limit = len / 4 < 1 ? 1 : len / 4;
	if (limit > 8)
		limit = 8;
	for (size_t i = 0; i < gb->info.nfuncs; i++) {
		const char *c = gb->funcs[i].name, *dot;
		size_t lc = gb->nlen[i], d, score, k;
		bool same;

		d = levenshtein(name, len, c, lc, limit);
		/* "computeE" for "main.computeE": compare with the part after the package */
		if (d > limit && local && (dot = strrchr(c, '.')) != NULL)
			d = levenshtein(name, len, dot + 1, strlen(dot + 1), limit - 1) + 1;
		if (d > limit || d == 0)
			continue;
		if (gobin__find_func(gb, c) != &gb->funcs[i])
			continue; /* a repeated name */
		same = plen && pkg_len(c) == plen && strncmp(c, name, plen) == 0;
		score = 2 * d + !same;
		for (k = nbest; k > 0 && best[k - 1].score > score; k--)
			;
		if (k >= cap)
			continue;
		if (nbest < cap)
			nbest++;
		memmove(&best[k + 1], &best[k], (nbest - 1 - k) * sizeof(best[0]));
		best[k] = (struct sugg){c, score};
	}
	for (size_t k = 0; k < nbest; k++)
		out[k] = best[k].name;
	return nbest;
}
