-- SPDX-License-Identifier: BSD-2-Clause
-- @description What the Go runtime did: goroutines and leaks, GC pauses, panics; allocations and blocking on request
--
--   sudo luprobe scripts/go-runtime.lua -p $(pidof service)
--   sudo luprobe scripts/go-runtime.lua -a leak=30s -a allocs=1 -a blocking=1 -p $(pidof service)
--
-- A line per panic (its value, recovered or not), and at exit: the
-- goroutines started by the function they run (a go statement with
-- arguments runs a wrapper named after the function that holds it:
-- main.main.gowrap1) and ended, by that creation site; those alive longer
-- than leak (default 5s), by creation site, every 10 s and at exit; the
-- garbage collections and their stop-the-world pauses. allocs=1 adds the
-- heap allocations by type (count and bytes), blocking=1 the time
-- goroutines spent parked, by wait reason: both probe hot runtime paths
-- (every allocation, every park) and slow a busy program down, so they are
-- off unless asked for. See lua/luprobe/runtime.lua.
local rt = require "luprobe.runtime"
local agg = require "luprobe.agg"
local fmt = require "luprobe.fmt"

local started = agg.count("goroutines started, by function")
local ended = agg.count("goroutines ended, by creation site")
local cycles, panics, recovered = 0, 0, 0
local pauses = { gc = { n = 0, total = 0, max = 0 }, other = { n = 0, total = 0, max = 0 } }

rt.goroutines{
	leak = luprobe.args.leak or "5s",
	on_start = function(g) started:add(tostring(g.fn)) end,
	on_end = function(g) ended:add(g.site) end,
}
rt.gc(function() cycles = cycles + 1 end)
rt.pauses(function(p)
	local s = pauses[p.gc and "gc" or "other"]
	s.n, s.total = s.n + 1, s.total + p.duration
	if p.duration > s.max then s.max = p.duration end
end)
rt.panics(function(p)
	panics = panics + 1
	if p.recovered then recovered = recovered + 1 end
	printf("panic in goroutine %d: %s %s%s\n", p.goid, p.type, tostring(p.value),
		p.recovered and " (recovered)" or " (not recovered)")
end)

local allocs, bytes, parks, parked
if luprobe.args.allocs then
	allocs = agg.count("allocations, by type")
	bytes = agg.sum("bytes allocated, by type")
	rt.allocs(function(a)
		local t = a.type or "(untyped)"
		allocs:add(t)
		bytes:add(a.size, t)
	end)
end
if luprobe.args.blocking then
	parks = agg.count("parks, by wait reason")
	parked = agg.sum{ title = "time parked, by wait reason", unit = "ns" }
	rt.blocking(function(b)
		parks:add(b.reason)
		parked:add(b.duration, b.reason)
	end)
end

local function pause_line(what, s)
	printf("%s: %d, total %s, longest %s\n", what, s.n, fmt.duration(s.total), fmt.duration(s.max))
end

on_exit(function()
	started:print()
	ended:print()
	printf("garbage collections: %d\n", cycles)
	pause_line("stop-the-world pauses of the GC", pauses.gc)
	pause_line("other stop-the-world pauses", pauses.other)
	if allocs then
		allocs:print{ top = 20 }
		bytes:print{ top = 20 }
	end
	if parks then
		parks:print()
		parked:print()
	end
	printf("panics: %d, recovered %d\n", panics, recovered)
end)
