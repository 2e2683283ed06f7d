// SPDX-License-Identifier: BSD-2-Clause
// UNIT-DEPS: prometheus metrics strbuf
/*
 * The Prometheus text exposition of a metric set: names with their unit and
 * _total once, HELP and label escaping, cumulative buckets with +Inf, _sum
 * and _count, exact integers and shortest floats; and families of one name
 * that disagree on their type.
 */
#include <math.h>
#include "unit.h"
#include "metrics.h"
#include "prometheus.h"

static char text[8192];

static const char *render(const struct metric_set *set)
{
	struct strbuf sb;

	sb_init(&sb);
	prometheus__render(set, &sb);
	snprintf(text, sizeof(text), "%s", sb_str(&sb));
	sb_free(&sb);
	return text;
}

static void test_counter_and_gauge_names_units_and_escaping(void)
{
	struct metric_set set;
	struct metric_family *f;
	struct metric_sample *m;

	metric_set__init(&set);
	f = metric_set__family(&set, "app_requests", NULL, METRIC_COUNTER, "Requests\nby \\path");
	m = metric_set__sample(&set, f);
	metric_set__label(&set, m, "path", "/a\"b\\c\nd");
	m->value = metric_int(9007199254740993ll); /* beyond a double: exact */
	metric_set__int(&set, metric_set__family(&set, "done_total", NULL, METRIC_COUNTER, NULL),
			NULL, NULL, 3);
	f = metric_set__family(&set, "lat_max", "seconds", METRIC_GAUGE, "x");
	m = metric_set__sample(&set, f);
	m->value = metric_float(3 / 1e9);
	metric_set__int(&set, metric_set__family(&set, "9bad-name", NULL, METRIC_GAUGE, NULL),
			"a.b", "v", -4);
	CHECK(!set.err, "err %d", set.err);
	CHECK_STR(render(&set), "# HELP app_requests_total Requests\\nby \\\\path\n"
				"# TYPE app_requests_total counter\n"
				"app_requests_total{path=\"/a\\\"b\\\\c\\nd\"} 9007199254740993\n"
				"# TYPE done_total counter\n"
				"done_total 3\n"
				"# HELP lat_max_seconds x\n"
				"# TYPE lat_max_seconds gauge\n"
				"lat_max_seconds 3e-09\n"
				"# TYPE _9bad_name gauge\n"
				"_9bad_name{a_b=\"v\"} -4\n");
	metric_set__clear(&set);
}

static void test_histogram_buckets_are_cumulative_with_inf_sum_and_count(void)
{
	struct metric_set set;
	struct metric_family *f;
	struct metric_sample *m;

	metric_set__init(&set);
	f = metric_set__family(&set, "call_latency", "seconds", METRIC_HISTOGRAM, NULL);
	m = metric_set__sample(&set, f);
	metric_set__label(&set, m, "function", "main.work");
	metric_set__bucket(&set, m, 0, 0);
	metric_set__bucket(&set, m, 1023 / 1e9, 5);
	metric_set__bucket(&set, m, 2047 / 1e9, 2);
	m->count = 9; /* two above the last bound */
	m->value = metric_float(12345 / 1e9);
	CHECK_STR(render(&set),
		  "# TYPE call_latency_seconds histogram\n"
		  "call_latency_seconds_bucket{function=\"main.work\",le=\"0\"} 0\n"
		  "call_latency_seconds_bucket{function=\"main.work\",le=\"1.023e-06\"} 5\n"
		  "call_latency_seconds_bucket{function=\"main.work\",le=\"2.047e-06\"} 7\n"
		  "call_latency_seconds_bucket{function=\"main.work\",le=\"+Inf\"} 9\n"
		  "call_latency_seconds_sum{function=\"main.work\"} 1.2345e-05\n"
		  "call_latency_seconds_count{function=\"main.work\"} 9\n");
	metric_set__clear(&set);
}

static void test_a_name_keeps_one_type_and_unit(void)
{
	struct metric_set set;
	struct metric_family *a, *b;

	metric_set__init(&set);
	a = metric_set__family(&set, "x", NULL, METRIC_COUNTER, NULL);
	b = metric_set__family(&set, "x", NULL, METRIC_COUNTER, "ignored");
	CHECK(a && a == b, "the same family");
	CHECK(!metric_set__family(&set, "x", NULL, METRIC_GAUGE, NULL), "another type");
	CHECK(!metric_set__family(&set, "x", "seconds", METRIC_COUNTER, NULL), "another unit");
	CHECK(!set.err && set.nfams == 1, "err %d, %zu families", set.err, set.nfams);
	metric_set__int(&set, a, NULL, NULL, 1);
	metric_set__int(&set, a, "k", "v", 2);
	CHECK_STR(render(&set), "# TYPE x_total counter\nx_total 1\nx_total{k=\"v\"} 2\n");
	metric_set__clear(&set);
	CHECK(!set.nfams && !set.fams, "cleared");
	metric_set__clear(&set);
}

static void test_special_floats(void)
{
	struct metric_set set;
	struct metric_family *f;

	metric_set__init(&set);
	f = metric_set__family(&set, "g", NULL, METRIC_GAUGE, NULL);
	metric_set__sample(&set, f)->value = metric_float(NAN);
	metric_set__sample(&set, f)->value = metric_float(-INFINITY);
	metric_set__sample(&set, f)->value = metric_float(0.1);
	metric_set__sample(&set, f)->value = metric_float(1e21);
	CHECK_STR(render(&set), "# TYPE g gauge\ng NaN\ng -Inf\ng 0.1\ng 1e+21\n");
	metric_set__clear(&set);
}

int main(void)
{
	RUN(test_counter_and_gauge_names_units_and_escaping);
	RUN(test_histogram_buckets_are_cumulative_with_inf_sum_and_count);
	RUN(test_a_name_keeps_one_type_and_unit);
	RUN(test_special_floats);
	return unit_summary();
}
