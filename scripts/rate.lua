-- SPDX-License-Identifier: BSD-2-Clause
-- @description Calls per second of a Go function, and what the script could not keep up with
-- @arg func   the Go function or glob (required)
-- @arg every  seconds between lines (default 1)
--
--   sudo luprobe scripts/rate.lua -a func=main.computeE -p $(pidof computee)
--
-- One line per interval: the calls the script saw, the events the ring
-- buffer could not take (lost: the script was slower than the calls), and
-- the batches of events luprobe cut short so that this timer kept its time.
local func = luprobe.args.func or error("give the function: -a func=pkg.Name")
local every_s = tonumber(luprobe.args.every) or 1
local seen = 0

probe{ func = func, args = false }:on_event(function()
	seen = seen + 1
end)

local last = luprobe.stats()
every(every_s * 1000, function()
	local st = luprobe.stats()
	printf("%10.0f calls/s  %8d lost  %4d batches cut\n", seen / every_s, st.lost - last.lost,
		st.batches_cut - last.batches_cut)
	io.stdout:flush()
	seen, last = 0, st
end)

on_exit(function()
	local st = luprobe.stats()
	printf("%d events, %d lost, %d undelivered\n", st.events, st.lost, st.undelivered)
end)
