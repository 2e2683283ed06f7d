#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Run each fuzzer for a bounded time over its seeds, its regression inputs and
# its persistent corpus, and print what it did.
#
#   tests/fuzz/run.sh OUT SECONDS TARGET...     (make fuzz FUZZ_SECONDS=600)
#
# OUT is the fuzz build directory (.output/fuzz): fuzzers OUT/fuzz_TARGET,
# seeds OUT/seeds/TARGET (tests/fuzz/seeds.py), the ELF regression inputs
# OUT/regressions/TARGET (tests/fuzz/crafted.py), corpus kept across runs in
# OUT/corpus/TARGET, logs in OUT/logs. FUZZ_JOBS=N runs N fuzzers at a time.
#
# A crash, leak, timeout or out-of-memory input is copied under a name saying
# what and where, e.g. heap-buffer-overflow-load_funcs-1a2b3c4d, and the exit
# status is 1: the text inputs into tests/fuzz/regressions/TARGET/, to commit;
# the ELF inputs into OUT/found/TARGET/, to describe in tests/fuzz/crafted.py
# (no binary file is committed).
set -u
cd "$(dirname "$0")/../.." || exit 2

if [ $# -lt 3 ]; then
	echo "usage: $0 OUT SECONDS TARGET..." >&2
	exit 2
fi
OUT=$1
SECONDS_EACH=$2
shift 2
JOBS=${FUZZ_JOBS:-1}
REGR=tests/fuzz/regressions

# libFuzzer reads at most -max_len bytes of an input: the ELF seeds are small
# ELF files made by seeds.py (under 64 KiB), the others are short strings.
max_len() {
	case $1 in
	gobin | godwarf) echo 65536 ;;
	lua) echo 4096 ;;
	*) echo 1024 ;;
	esac
}

# A name for a crashing input from the sanitizer's report: the kind of error
# and the innermost function of ours (src/) on the stack, e.g.
# heap-buffer-overflow-load_funcs-1a2b3c4d or signed-integer-overflow-pcvalue-...
crash_name() {
	local log=$1 input=$2 report kind fn
	report=$(sed -n '/ERROR: \|runtime error: \|==ERROR\|deadly signal/,$p' "$log")
	kind=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+' <<<"$report" |
		awk '{print $NF}')
	[ -z "$kind" ] && kind=$(grep -m1 -oE 'runtime error: [a-z ]+' <<<"$report" |
		cut -d' ' -f3-5 | tr ' ' '-' | sed 's/-*$//')
	[ -z "$kind" ] && kind=$(basename "$input" | cut -d- -f1)
	fn=$(grep -m1 -oE 'in [A-Za-z_0-9]+ [^ ]*src/[a-z_]+\.c' <<<"$report" | awk '{print $2}')
	echo "${kind}${fn:+-$fn}-$(sha1sum "$input" | cut -c1-8)"
}

stat_of() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

run_one() {
	local t=$1 bin=$OUT/fuzz_$1 log=$OUT/logs/$1.log art=$OUT/artifacts/$1/
	local dirs=() flags=() rc start secs

	if [ ! -x "$bin" ]; then
		echo "fuzz: $t: no $bin (make fuzz-build)" >&2
		return 1
	fi
	mkdir -p "$OUT/corpus/$t" "$art" "$OUT/logs"
	rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-* "$art"/slow-unit-*
	dirs=("$OUT/corpus/$t")
	[ -d "$OUT/seeds/$t" ] && dirs+=("$OUT/seeds/$t")
	[ -d "$REGR/$t" ] && dirs+=("$REGR/$t")
	[ -d "$OUT/regressions/$t" ] && dirs+=("$OUT/regressions/$t")
	[ -f "tests/fuzz/$t.dict" ] && flags+=("-dict=tests/fuzz/$t.dict")
	# bounded: total time, memory, time per input; no output from the target
	start=$(date +%s)
	UBSAN_OPTIONS=print_stacktrace=1:${UBSAN_OPTIONS:-} "$bin" -max_total_time="$SECONDS_EACH" \
		-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len="$(max_len "$t")" \
		-print_final_stats=1 -close_fd_mask=1 -artifact_prefix="$art" "${flags[@]}" \
		"${dirs[@]}" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))

	local execs rate last cov ft corp files crashes=0 f name keep=$REGR/$t
	execs=$(stat_of number_of_executed_units "$log")
	rate=$(stat_of average_exec_per_sec "$log")
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
	files=$(find "$OUT/corpus/$t" -type f | wc -l)
	for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
		[ -f "$f" ] || continue
		name=$(crash_name "$log" "$f")
		case $t in gobin | godwarf) keep=$OUT/found/$t ;; esac
		mkdir -p "$keep"
		cp "$f" "$keep/$name"
		echo "fuzz: $t: found $name: kept as $keep/$name (report in $log)" >&2
		crashes=$((crashes + 1))
	done
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		echo "fuzz: $t: fuzzer exited with $rc and left no input (see $log)" >&2
		crashes=1
	fi
	printf 'fuzz: %-9s %s executions (%s/s) in %ss, corpus %s inputs (%s files kept), ' \
		"$t" "${execs:-0}" "${rate:-0}" "$secs" "${corp:-0}" "$files"
	printf 'cov %s ft %s, crashes %s\n' "${cov:-0}" "${ft:-0}" "$crashes"
	[ "$crashes" -eq 0 ]
}

status=0
pids=()
for t in "$@"; do
	if [ "$JOBS" -le 1 ]; then
		run_one "$t" || status=1
		continue
	fi
	run_one "$t" &
	pids+=($!)
	if [ "${#pids[@]}" -ge "$JOBS" ]; then
		wait "${pids[0]}" || status=1
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || status=1
done
exit $status
