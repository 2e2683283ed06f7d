-- SPDX-License-Identifier: BSD-2-Clause
-- @description What the Go runtime did: goroutines started by function, garbage collections, panics
--
--   sudo luprobe scripts/go-runtime.lua -p $(pidof service)
--
-- A line per panic (its value, recovered or not), and at exit the goroutines
-- started by the function they run (a go statement with arguments runs a
-- wrapper named after the function that holds it: main.main.gowrap1), and
-- the garbage collections. See lua/luprobe/runtime.lua.
local rt = require "luprobe.runtime"
local agg = require "luprobe.agg"

local started = agg.count("goroutines started, by function")
local cycles, panics, recovered = 0, 0, 0

rt.goroutines(function(g) started:add(tostring(g.fn)) end)
rt.gc(function() cycles = cycles + 1 end)
rt.panics(function(p)
	panics = panics + 1
	if p.recovered then recovered = recovered + 1 end
	printf("panic in goroutine %d: %s %s%s\n", p.goid, p.type, tostring(p.value),
		p.recovered and " (recovered)" or " (not recovered)")
end)

on_exit(function()
	started:print()
	printf("garbage collections: %d\n", cycles)
	printf("panics: %d, recovered %d\n", panics, recovered)
end)
