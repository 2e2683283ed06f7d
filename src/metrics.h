/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a run exports, independent of how it is exported: families of
 * counters, gauges and histograms, each sample with its labels. Collectors
 * (the session's own counters, the script's aggregations) fill a set when an
 * exporter asks; an exporter (src/prometheus.c) renders it in its format.
 * Names are snake_case without unit or "_total": those are the exporter's
 * conventions (the unit is apart, "seconds" for latency).
 */
#ifndef LUPROBE_METRICS_H
#define LUPROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

/* A number kept exact when it is an integer. */
struct metric_num {
	bool is_int;
	int64_t i;
	double f;
};

struct metric_label {
	char *name;
	char *value;
};

/* One bucket of a histogram: the count of values above the previous bound, up to le. */
struct metric_bucket {
	double le; /* inclusive upper bound, ascending; the last bucket (+Inf) is implied */
	uint64_t count;
};

struct metric_sample {
	struct metric_label *labels;
	size_t nlabels;
	struct metric_num value;       /* counter, gauge; a histogram's sum */
	uint64_t count;		       /* histogram: every value, +Inf included */
	struct metric_bucket *buckets; /* histogram, not cumulative */
	size_t nbuckets, bcap;
};

struct metric_family {
	char *name; /* snake_case, without unit or _total */
	char *unit; /* "seconds", "bytes", or NULL */
	char *help;
	enum metric_type type;
	struct metric_sample *samples;
	size_t nsamples, cap;
};

/* A set of families; an allocation failure is kept (err) and ends every later call. */
struct metric_set {
	struct metric_family *fams;
	size_t nfams, cap;
	int err; /* 0 or -ENOMEM */
};

void metric_set__init(struct metric_set *s);
/* Forget every family (the set can be filled again). */
void metric_set__clear(struct metric_set *s);
/*
 * The family of that name, added if new (unit and help may be NULL). NULL if
 * memory ran out or a family of that name has another type or unit.
 */
struct metric_family *metric_set__family(struct metric_set *s, const char *name, const char *unit,
					 enum metric_type type, const char *help);
/* A new sample of f, its labels and value to be set; NULL if memory ran out. */
struct metric_sample *metric_set__sample(struct metric_set *s, struct metric_family *f);
int metric_set__label(struct metric_set *s, struct metric_sample *m, const char *name,
		      const char *value);
int metric_set__bucket(struct metric_set *s, struct metric_sample *m, double le, uint64_t count);
/* Shorthand: a sample with no label or one, an integer value. */
void metric_set__int(struct metric_set *s, struct metric_family *f, const char *label,
		     const char *value, int64_t v);

static inline struct metric_num metric_int(int64_t v)
{
	return (struct metric_num){.is_int = true, .i = v, .f = (double)v};
}

static inline struct metric_num metric_float(double v)
{
	return (struct metric_num){.is_int = false, .i = 0, .f = v};
}

#endif
