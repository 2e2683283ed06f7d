// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"

void metric_set__init(struct metric_set *s)
{
	memset(s, 0, sizeof(*s));
}

static void sample_free(struct metric_sample *m)
{
	size_t i;

	for (i = 0; i < m->nlabels; i++) {
		free(m->labels[i].name);
		free(m->labels[i].value);
	}
	free(m->labels);
	free(m->buckets);
}

void metric_set__clear(struct metric_set *s)
{
	size_t i, j;

	for (i = 0; i < s->nfams; i++) {
		struct metric_family *f = &s->fams[i];

		for (j = 0; j < f->nsamples; j++)
			sample_free(&f->samples[j]);
		free(f->samples);
		free(f->name);
		free(f->unit);
		free(f->help);
	}
	free(s->fams);
	memset(s, 0, sizeof(*s));
}

/* Make room for one more element of size sz in *arr (n used, *cap allocated). */
static int grow(void *arr, size_t n, size_t *cap, size_t sz)
{
	void **p = arr, *q;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	q = realloc(*p, c * sz);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

struct metric_family *metric_set__family(struct metric_set *s, const char *name, const char *unit,
					 enum metric_type type, const char *help)
{
	struct metric_family *f;
	size_t i;

	if (s->err)
		return NULL;
	for (i = 0; i < s->nfams; i++) {
		f = &s->fams[i];
		if (strcmp(f->name, name) == 0)
			return f->type == type && same(f->unit, unit) ? f : NULL;
	}
	if (grow(&s->fams, s->nfams, &s->cap, sizeof(*f))) {
		s->err = -ENOMEM;
		return NULL;
	}
	f = &s->fams[s->nfams];
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->name = strdup(name);
	f->unit = unit ? strdup(unit) : NULL;
	f->help = help ? strdup(help) : NULL;
	if (!f->name || (unit && !f->unit) || (help && !f->help)) {
		free(f->name);
		free(f->unit);
		free(f->help);
		s->err = -ENOMEM;
		return NULL;
	}
	s->nfams++;
	return f;
}

struct metric_sample *metric_set__sample(struct metric_set *s, struct metric_family *f)
{
	struct metric_sample *m;

	if (s->err || !f)
		return NULL;
	if (grow(&f->samples, f->nsamples, &f->cap, sizeof(*m))) {
		s->err = -ENOMEM;
		return NULL;
	}
	m = &f->samples[f->nsamples++];
	memset(m, 0, sizeof(*m));
	m->value = metric_int(0);
	return m;
}

int metric_set__label(struct metric_set *s, struct metric_sample *m, const char *name,
		      const char *value)
{
	struct metric_label *l;

	if (s->err || !m)
		return s->err ? s->err : -EINVAL;
	/* labels are few: grow one at a time */
	l = realloc(m->labels, (m->nlabels + 1) * sizeof(*l));
	if (!l)
		return s->err = -ENOMEM;
	m->labels = l;
	l = &m->labels[m->nlabels];
	l->name = strdup(name);
	l->value = strdup(value);
	if (!l->name || !l->value) {
		free(l->name);
		free(l->value);
		return s->err = -ENOMEM;
	}
	m->nlabels++;
	return 0;
}

int metric_set__bucket(struct metric_set *s, struct metric_sample *m, double le, uint64_t count)
{
	struct metric_bucket *b;

	if (s->err || !m)
		return s->err ? s->err : -EINVAL;
	if (grow(&m->buckets, m->nbuckets, &m->bcap, sizeof(*b)))
		return s->err = -ENOMEM;
	b = &m->buckets[m->nbuckets];
	b->le = le;
	b->count = count;
	m->nbuckets++;
	return 0;
}

void metric_set__int(struct metric_set *s, struct metric_family *f, const char *label,
		     const char *value, int64_t v)
{
	struct metric_sample *m = metric_set__sample(s, f);

	if (!m)
		return;
	if (label)
		metric_set__label(s, m, label, value);
	m->value = metric_int(v);
}
