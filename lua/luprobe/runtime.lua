-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.runtime: what the Go runtime does for a program: the goroutines it
-- starts, by the function they run; its garbage collections; its panics,
-- recovered or not. Every Go release from 1.13, stripped binaries too (the
-- runtime functions are declared here, not looked up).
--
--   local rt = require "luprobe.runtime"
--   rt.goroutines(function(g) print("go", g.fn) end)
--   rt.gc(function(c) print("gc cycle", c.n) end)
--   rt.panics(function(p) print(p.type, p.value, p.recovered) end)
--
-- Each takes a function or { on_... = fn, target = ... } and returns its
-- probes.
--
local fmt = require "luprobe.fmt"

local M = {}

local function opts_of(opts, key, who)
	if type(opts) == "function" then
		opts = { [key] = opts }
	end
	local fn = opts[key] or error(string.format("luprobe.runtime.%s: %s is required", who, key), 3)
	return opts, fn
end

-- goroutines: runtime.newproc1 runs once per go statement (and for the
-- runtime's own goroutines), on the system stack of the goroutine that
-- creates one; its first argument is the function value the new goroutine
-- runs. A go statement that passes arguments runs a wrapper the compiler
-- names after the function that holds the statement: main.main.func1 (to Go
-- 1.21), main.main.gowrap1 (from Go 1.22) for the first one in main.main, so
-- fn names the creation site (a go statement without arguments names the
-- function it runs: main.leak). The caller's pc (newproc1's callerpc) is not
-- used: the func value names the site without symbolizing a pc per event. A
-- record: { fn, pid, goid (the creator), new_goid (with on_end or leak),
-- event }.
--
-- Ends and leaks (on_end, leak): newproc1's result is the new g, whose goid
-- is read at return (g.goid: offset 152, 160 in Go 1.23 and 1.24, as
-- docs/goruntime.md has it); runtime.goexit1 runs on every goroutine that
-- ends (returned from its function or called runtime.Goexit), so its event's
-- goid is the one that ends. A table keyed by goid holds each goroutine's
-- creation site and start time, at most max_goroutines (default 100000)
-- at once: those started beyond are not tracked, and counted (untracked).
-- on_end gets { site, goid, age (ns alive), pid, event } per goroutine that
-- ends (site "(unknown)": started before tracing, or not tracked). With
-- leak = "2s" (a duration: ns as a number, or "500ms", "2s", "1m"), the
-- goroutines alive longer than that are reported by creation site, every
-- report_every (default "10s"; false: only at exit) and at exit: on_leaks
-- gets (list of { site, count, oldest (ns) }, most first, { final, untracked,
-- tracked }), else they print. The runtime's own goroutines (a site in
-- package runtime) are left out of the report unless runtime = true. Ages
-- run to when the report is made (at exit: after the traced processes
-- ended). A goroutine whose end was among events lost (luprobe says how
-- many at exit) stays in the table, and may be reported as a leak.
-- level: error()'s, the script's call of the public function
local function parse_duration(v, who, level)
	if math.type(v) then
		return math.floor(v)
	end
	local units = { ns = 1, us = 1000, ["µs"] = 1000, ms = 1000000, s = 1000000000,
		m = 60000000000 }
	local n, u = tostring(v):match("^%s*([%d.]+)%s*(%S+)%s*$")
	if not n or not units[u] or not tonumber(n) then
		error(string.format("luprobe.runtime.%s: a duration such as \"2s\", \"500ms\" or "
			.. "a number of ns, not %s", who, tostring(v)), level or 4)
	end
	return math.floor(tonumber(n) * units[u])
end

local function go_minor(e)
	local m = e.goversion and e.goversion:match("^go1%.(%d+)")
	return tonumber(m)
end

-- runtime.g up to goid: stack, stackguard0/1, _panic, _defer, m, sched and
-- the syscall words; goid at 152, or 160 in Go 1.23 and 1.24 (syscallbp)
local G_PREFIX = "*struct{ Words [19]uint64; Goid152 int64; Goid160 int64 }"

local function goid_of(e, g)
	if type(g) ~= "table" then
		return nil
	end
	local minor = go_minor(e)
	local id = (minor == 23 or minor == 24) and g.Goid160 or g.Goid152
	return math.type(id) and id or nil
end

local function leak_reporter(opts, alive, counts)
	local threshold = parse_duration(opts.leak, "goroutines: leak")
	local with_runtime = opts.runtime
	local on_leaks = opts.on_leaks or function(list, info)
		printf("goroutines alive longer than %s, by creation site%s:\n",
			fmt.duration(threshold), info.final and " (at exit)" or "")
		if #list == 0 then
			printf("  (none)\n")
		end
		for _, r in ipairs(list) do
			printf("  %-40s %6d  oldest %s\n", r.site, r.count, fmt.duration(r.oldest))
		end
		if info.untracked > 0 then
			printf("  (%d goroutines not tracked: more than max_goroutines at once)\n", info.untracked)
		end
	end
	return function(final)
		local now, by = luprobe.now(), {}
		for _, a in pairs(alive) do
			local age = now - a.ts
			if age >= threshold and (with_runtime or not a.site:find("^runtime%.")) then
				local r = by[a.site] or { site = a.site, count = 0, oldest = 0 }
				by[a.site] = r
				r.count = r.count + 1
				if age > r.oldest then
					r.oldest = age
				end
			end
		end
		local list = {}
		for _, r in pairs(by) do
			list[#list + 1] = r
		end
		table.sort(list, function(x, y)
			if x.count ~= y.count then return x.count > y.count end
			return x.site < y.site
		end)
		on_leaks(list, { final = final, untracked = counts.untracked, tracked = counts.n })
	end
end

-- track each goroutine from newproc1's return to goexit1
local function track_ends(opts, p, alive, counts)
	local max = opts.max_goroutines or 100000
	local on_end = opts.on_end
	local said
	p.track = function(e, site)
		local minor = go_minor(e)
		if minor and minor < 17 then
			-- newproc1 returns the new g from Go 1.17 (before, it queued it itself)
			if not said then
				said = true
				io.stderr:write(string.format("luprobe.runtime: goroutine ends and leaks need Go 1.17 "
					.. "or later (runtime.newproc1 returns the new goroutine); %s is older: "
					.. "not tracked\n", e.goversion))
			end
			return nil
		end
		local id = goid_of(e, e.ret.g)
		if not id then
			return nil
		end
		if counts.n >= max then
			counts.untracked = counts.untracked + 1
			return id
		end
		alive[e.pid .. ":" .. id] = { site = site, ts = e.ts + (e.latency or 0) }
		counts.n = counts.n + 1
		return id
	end
	local x = probe{ func = "runtime.goexit1", target = opts.target, args = false }
	x:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local a = alive[k]
		if a then
			alive[k] = nil
			counts.n = counts.n - 1
		end
		if on_end then
			on_end{ site = a and a.site or "(unknown)", goid = e.goid, age = a and e.ts - a.ts,
				pid = e.pid, event = e }
		end
	end)
	return x
end

function M.goroutines(opts)
	if type(opts) == "function" then
		opts = { on_start = opts }
	end
	local on_start = opts.on_start
	if not (on_start or opts.on_end or opts.leak) then
		error("luprobe.runtime.goroutines: on_start, on_end or leak is required", 2)
	end
	local ends = opts.on_end or opts.leak
	local p = probe{ func = "runtime.newproc1", target = opts.target, args = { { "fn", "func()" } },
		ret = ends and { { "g", G_PREFIX } } or nil }
	local alive, counts = {}, { n = 0, untracked = 0 }
	local t = { newproc = p }
	if ends then
		t.goexit = track_ends(opts, t, alive, counts)
	end
	p:on_event(function(e)
		local fn = tostring(e.args.fn)
		local id = t.track and t.track(e, fn)
		if on_start then
			on_start{ fn = e.args.fn, pid = e.pid, goid = e.goid, new_goid = id, event = e }
		end
	end)
	if opts.leak then
		local report = leak_reporter(opts, alive, counts)
		local every_ns = opts.report_every == nil and 10000000000 or
			opts.report_every and parse_duration(opts.report_every, "goroutines: report_every", 3)
		if every_ns then
			every(every_ns / 1000000, function() report(false) end)
		end
		on_exit(function() report(true) end)
		t.report = report
	end
	t.untracked = function() return counts.untracked end
	return t
end

-- gc: runtime.gcMarkTermination runs once per cycle, forced or not, as
-- runtime.MemStats.NumGC counts them. A record: { n (cycles seen in this
-- process), pid, event }.
function M.gc(opts)
	local fn
	opts, fn = opts_of(opts, "on_gc", "gc")
	local n = {}
	local p = probe{ func = "runtime.gcMarkTermination", target = opts.target, args = false }
	p:on_event(function(e)
		n[e.pid] = (n[e.pid] or 0) + 1
		fn{ n = n[e.pid], pid = e.pid, event = e }
	end)
	return { termination = p }
end

-- pauses: every stop-the-world, from runtime.stopTheWorldWithSema's entry
-- to runtime.startTheWorldWithSema's, on the same goroutine (the runtime
-- stops and restarts the world from one goroutine, on its system stack). A
-- pause while that goroutine is inside runtime.gcStart is a GC cycle's
-- sweep termination, inside runtime.gcMarkDone its mark termination (gc =
-- true: what runtime.MemStats.PauseNs adds up); any other is a
-- stop-the-world for something else (ReadMemStats, GOMAXPROCS, profiles:
-- phase "other", gc = false). restart is the time startTheWorldWithSema
-- took (restarting the Ps, starting threads for them, waking one more).
-- The runtime times a pause with clock reads of its own, near these two
-- points but not at them: at the stop, and inside startTheWorldWithSema
-- (sweep termination, after the threads are started) or a little before it
-- (mark termination). Measured against PauseNs (tests/e2e/test_runtime.py):
-- a cycle's duration is within about 12 µs a pause of the runtime's, or
-- below it by up to its sweep termination's restart. A record: { phase, gc,
-- duration, restart (ns), pid, goid, event (the start's) }.
local function phase_tracker(name, phase, target, phases)
	local p = probe{ func = name, target = target, args = false, ret = {}, mode = "separate" }
	p:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		phases[k] = e.kind == "entry" and phase or nil
	end)
	return p
end

function M.pauses(opts)
	local fn
	opts, fn = opts_of(opts, "on_pause", "pauses")
	local phases, stopping = {}, {}
	local t = {
		gcstart = phase_tracker("runtime.gcStart", "sweep termination", opts.target, phases),
		markdone = phase_tracker("runtime.gcMarkDone", "mark termination", opts.target, phases),
	}
	t.stop = probe{ func = "runtime.stopTheWorldWithSema", target = opts.target, args = false }
	t.stop:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		stopping[k] = { ts = e.ts, phase = phases[k] }
	end)
	t.start = probe{ func = "runtime.startTheWorldWithSema", target = opts.target, args = false,
		ret = {} }
	t.start:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local s = stopping[k]
		if not s then
			return -- the world was stopped before tracing
		end
		stopping[k] = nil
		fn{ phase = s.phase or "other", gc = s.phase ~= nil, duration = e.ts - s.ts,
			restart = e.latency, pid = e.pid, goid = e.goid, event = e }
	end)
	return t
end

-- allocs: runtime.mallocgc(size, typ, needzero) runs for every heap
-- allocation: size is the bytes asked for, typ the type descriptor of what
-- is allocated (nil for untyped memory: strings' bytes, a map's buckets in
-- some releases), named by the binary's own type names (e:typename). It is
-- the hottest path a Go program has: every allocation costs the traced
-- program a uprobe trap and an event (about 1 to 3 µs), so it says so at
-- start; min_size = N keeps only allocations of N bytes or more, in the
-- kernel (the others cost the trap only), and types = "pattern" (a Lua
-- pattern on the type name) keeps only the types that match it (in the
-- script: they cost an event). A record: { type (nil: untyped), size, pid,
-- goid, event }.
function M.allocs(opts)
	local fn
	opts, fn = opts_of(opts, "on_alloc", "allocs")
	local min, pattern = opts.min_size, opts.types
	if min ~= nil and math.type(min) ~= "integer" then
		error("luprobe.runtime.allocs: min_size is a number of bytes", 2)
	end
	io.stderr:write("luprobe.runtime: allocs probes runtime.mallocgc, run by every heap allocation: "
		.. "it slows an allocating program down (min_size and types narrow what is reported)\n")
	local p = probe{ func = "runtime.mallocgc", target = opts.target,
		args = { { "size", "uintptr" }, { "typ", "uintptr" }, { "needzero", "bool" } },
		where = min and string.format("size >= %d", min) or nil }
	p:on_event(function(e)
		local typ = e.args.typ
		local name = typ ~= 0 and e:typename(typ) or nil
		if pattern and not (name and name:find(pattern)) then
			return
		end
		fn{ type = name, size = e.args.size, pid = e.pid, goid = e.goid, event = e }
	end)
	return { mallocgc = p }
end

-- blocking: runtime.gopark parks the goroutine that calls it, with a
-- waitReason (its third argument, a number whose meaning changed between
-- releases: named here for Go 1.13 to 1.27, as each release's
-- runtime.waitReasonStrings has it; a newer release gets "waitReason N",
-- said once at its first park); runtime.ready(gp) makes a
-- parked goroutine runnable again (channels, locks, sleeps, sync.Cond,
-- WaitGroup: every runtime.goready), on the goroutine that wakes it. The
-- time parked runs from the park to that ready: the wait for the event, not
-- the wait for a CPU after it. (gopark's own return would include that, but
-- a probe on its return cost 35 µs a park on this machine's ping-pong, the
-- entries of gopark and ready 2.5 µs together.) Goroutines the network
-- poller wakes ("IO wait") are made runnable in batches without ready: their
-- parks have no record, nor do those of a goroutine parked for good (a
-- leak). Parks waiting for their ready are kept by goid, at most
-- max_goroutines (default 100000). Every channel wait, select, lock wait and
-- sleep parks: a busy program parks often (two uprobe traps and events per
-- park), so it says so at start; min = "1ms" keeps only parks that long (in
-- the script). A record: { reason, reason_n, duration (ns), waker (the goid
-- that readied it), pid, goid, event (the ready's) }.
-- runtime.waitReasonStrings of each release, as the binaries of
-- .cache/gobins (built by Go 1.13 to 1.27) hold it, equal to the Go 1.19 and
-- 1.26 sources' lists: index n is waitReason n (0 is "")
local WAIT_REASONS = {}
for _, t in ipairs{
	-- go1.13
	{ 13, 13, {
		"GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
		"dumping heap", "garbage collection", "garbage collection scan", "panicwait",
		"select", "select (no cases)", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "chan receive", "chan send", "finalizer wait",
		"force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait",
		"timer goroutine (idle)", "trace reader (blocked)", "wait for GC cycle",
		"GC worker (idle)" } },
	-- go1.14
	{ 14, 14, {
		"GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
		"dumping heap", "garbage collection", "garbage collection scan", "panicwait",
		"select", "select (no cases)", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "chan receive", "chan send", "finalizer wait",
		"force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait",
		"timer goroutine (idle)", "trace reader (blocked)", "wait for GC cycle",
		"GC worker (idle)", "preempted" } },
	-- go1.15 to go1.19
	{ 15, 19, {
		"GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
		"dumping heap", "garbage collection", "garbage collection scan", "panicwait",
		"select", "select (no cases)", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "chan receive", "chan send", "finalizer wait",
		"force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait",
		"timer goroutine (idle)", "trace reader (blocked)", "wait for GC cycle",
		"GC worker (idle)", "preempted", "debug call" } },
	-- go1.20 to go1.21
	{ 20, 21, {
		"GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
		"dumping heap", "garbage collection", "garbage collection scan", "panicwait",
		"select", "select (no cases)", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "chan receive", "chan send", "finalizer wait",
		"force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait", "sync.Mutex.Lock",
		"sync.RWMutex.RLock", "sync.RWMutex.Lock", "trace reader (blocked)",
		"wait for GC cycle", "GC worker (idle)", "GC worker (active)", "preempted",
		"debug call", "GC mark termination", "stopping the world" } },
	-- go1.22
	{ 22, 22, {
		"GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
		"dumping heap", "garbage collection", "garbage collection scan", "panicwait",
		"select", "select (no cases)", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "chan receive", "chan send", "finalizer wait",
		"force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait", "sync.Mutex.Lock",
		"sync.RWMutex.RLock", "sync.RWMutex.Lock", "trace reader (blocked)",
		"wait for GC cycle", "GC worker (idle)", "GC worker (active)", "preempted",
		"debug call", "GC mark termination", "stopping the world", "flushing proc caches",
		"trace goroutine status", "trace proc status", "page trace flush", "coroutine" } },
	-- go1.23
	{ 23, 23, {
		"GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
		"dumping heap", "garbage collection", "garbage collection scan", "panicwait",
		"select", "select (no cases)", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "chan receive", "chan send", "finalizer wait",
		"force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait", "sync.Mutex.Lock",
		"sync.RWMutex.RLock", "sync.RWMutex.Lock", "trace reader (blocked)",
		"wait for GC cycle", "GC worker (idle)", "GC worker (active)", "preempted",
		"debug call", "GC mark termination", "stopping the world", "flushing proc caches",
		"trace goroutine status", "trace proc status", "page trace flush", "coroutine",
		"GC weak to strong wait" } },
	-- go1.24
	{ 24, 24, {
		"GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
		"dumping heap", "garbage collection", "garbage collection scan", "panicwait",
		"select", "select (no cases)", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "chan receive", "chan send", "finalizer wait",
		"force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait", "sync.Mutex.Lock",
		"sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait",
		"trace reader (blocked)", "wait for GC cycle", "GC worker (idle)",
		"GC worker (active)", "preempted", "debug call", "GC mark termination",
		"stopping the world", "flushing proc caches", "trace goroutine status",
		"trace proc status", "page trace flush", "coroutine", "GC weak to strong wait",
		"synctest.Run", "synctest.Wait", "chan receive (synctest)", "chan send (synctest)",
		"select (synctest)" } },
	-- go1.25
	{ 25, 25, {
		"GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
		"dumping heap", "garbage collection", "garbage collection scan", "panicwait",
		"select", "select (no cases)", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "chan receive", "chan send", "finalizer wait",
		"force gc (idle)", "GOMAXPROCS updater (idle)", "semacquire", "sleep",
		"sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
		"sync.WaitGroup.Wait", "trace reader (blocked)", "wait for GC cycle",
		"GC worker (idle)", "GC worker (active)", "preempted", "debug call",
		"GC mark termination", "stopping the world", "flushing proc caches",
		"trace goroutine status", "trace proc status", "page trace flush", "coroutine",
		"GC weak to strong wait", "synctest.Run", "synctest.Wait", "chan receive (durable)",
		"chan send (durable)", "select (durable)", "sync.WaitGroup.Wait (durable)",
		"cleanup wait" } },
	-- go1.26 to go1.27
	{ 26, 27, {
		"GC assist marking", "IO wait", "dumping heap", "garbage collection",
		"garbage collection scan", "panicwait", "GC assist wait", "GC sweep wait",
		"GC scavenge wait", "finalizer wait", "force gc (idle)",
		"GOMAXPROCS updater (idle)", "semacquire", "sleep", "chan receive (nil chan)",
		"chan send (nil chan)", "select (no cases)", "select", "chan receive", "chan send",
		"sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
		"sync.WaitGroup.Wait", "trace reader (blocked)", "wait for GC cycle",
		"GC worker (idle)", "GC worker (active)", "preempted", "debug call",
		"GC mark termination", "stopping the world", "flushing proc caches",
		"trace goroutine status", "trace proc status", "page trace flush", "coroutine",
		"GC weak to strong wait", "synctest.Run", "synctest.Wait", "chan receive (durable)",
		"chan send (durable)", "select (durable)", "sync.WaitGroup.Wait (durable)",
		"cleanup wait" } },
} do
	for minor = t[1], t[2] do
		WAIT_REASONS[minor] = t[3]
	end
end

-- the wait reasons' names for the binary of an event, false when not known
-- (said once per release)
local function reasons_of(e, known)
	local v = e.goversion or "?"
	local names = known[v]
	if names == nil then
		names = WAIT_REASONS[go_minor(e)] or false
		known[v] = names
		if not names then
			io.stderr:write(string.format("luprobe.runtime: blocking: no table of wait reasons "
				.. "for %s; reasons are given as numbers\n", e.goversion or "this Go release"))
		end
	end
	return names
end

local function reason_name(names, n)
	local reason = names and (n == 0 and "" or names[n])
	return reason or ("waitReason " .. n)
end

function M.blocking(opts)
	local fn
	opts, fn = opts_of(opts, "on_block", "blocking")
	local min = opts.min and parse_duration(opts.min, "blocking: min", 3) or 0
	local max = opts.max_goroutines or 100000
	io.stderr:write("luprobe.runtime: blocking probes runtime.gopark and runtime.ready, run by every "
		.. "goroutine that waits (channels, locks, sleeps): it slows a busy program down\n")
	local known, parked, n = {}, {}, 0
	local park = probe{ func = "runtime.gopark", target = opts.target,
		args = { { "unlockf", "uintptr" }, { "lock", "uintptr" }, { "reason", "uint8" } } }
	park:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		if not parked[k] then
			if n >= max then
				return
			end
			n = n + 1
		end
		-- a park whose ready was not seen (the network poller) is replaced
		parked[k] = { ts = e.ts, reason = e.args.reason, names = reasons_of(e, known) }
	end)
	local ready = probe{ func = "runtime.ready", target = opts.target, args = { { "g", G_PREFIX } } }
	ready:on_event(function(e)
		local id = goid_of(e, e.args.g)
		local k = id and e.pid .. ":" .. id
		local p = k and parked[k]
		if not p then
			return
		end
		parked[k], n = nil, n - 1
		local d = e.ts - p.ts
		if d >= min then
			fn{ reason = reason_name(p.names, p.reason), reason_n = p.reason, duration = d,
				waker = e.goid, pid = e.pid, goid = id, event = e }
		end
	end)
	return { gopark = park, ready = ready }
end

-- the value of an `any` as the decoder read it: its type, and its value when
-- the decoder could read one (a string, an error's message, a number)
local function value_of(v)
	if type(v) ~= "table" then
		return "nil", nil
	end
	local val = v.value
	if type(val) ~= "string" and math.type(val) == nil and type(val) ~= "boolean" then
		val = nil
	end
	return v.type or "?", val
end

-- panics: runtime.gopanic gives the value (its dynamic type, and the value of
-- a string, an error or a number); a recover() that returns it, on the same
-- goroutine, marks it recovered (runtime.gorecover's result). A recovered
-- panic is reported when it is recovered, one that nothing recovered when the
-- run ends. A record: { type, value, recovered, pid, goid, event (the panic's) }.
function M.panics(opts)
	local fn
	opts, fn = opts_of(opts, "on_panic", "panics")
	-- panics in flight per goroutine ("pid:goid"), the newest last
	local pending = {}
	local raise = probe{ func = "runtime.gopanic", target = opts.target, args = { { "e", "any" } } }
	raise:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local t, v = value_of(e.args.e)
		pending[k] = pending[k] or {}
		table.insert(pending[k], { type = t, value = v, pid = e.pid, goid = e.goid, event = e })
	end)
	-- gorecover(argp) to Go 1.22, gorecover() after: only the result is read
	local recover = probe{ func = "runtime.gorecover", target = opts.target, args = false,
		ret = { { "v", "any" } } }
	recover:on_event(function(e)
		local v = e.ret.v
		if type(v) ~= "table" or v.type == nil or v.type == "nil" then
			return -- no panic to recover: recover() returned nil
		end
		local k = e.pid .. ":" .. e.goid
		local list = pending[k]
		local r = list and table.remove(list)
		if list and #list == 0 then
			pending[k] = nil -- a server panicking on ever new goroutines keeps no entry each
		end
		if r then
			r.recovered = true
			fn(r)
		end
	end)
	on_exit(function()
		for _, list in pairs(pending) do
			for _, r in ipairs(list) do
				r.recovered = false
				fn(r)
			end
		end
	end)
	return { gopanic = raise, gorecover = recover }
end

return M
