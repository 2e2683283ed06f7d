-- SPDX-License-Identifier: BSD-2-Clause
-- @description Calls of a function slower than a threshold, with results and stack
-- @arg func  the Go function (required)
-- @arg ms    the threshold in milliseconds (default 10)
--
-- Calls of a function slower than a threshold, with their results, the
-- goroutine and the stack that led to them.
--
--   sudo luprobe scripts/slow.lua -a func=main.computeE -a ms=1 -p $(pidof computee)
--
-- Arguments: func (required), ms (threshold in milliseconds, default 10).
local func = luprobe.args.func or error("give the function: -a func=pkg.Name")
local threshold = (tonumber(luprobe.args.ms) or 10) * 1e6
local slow, all = 0, 0

local p = probe{ func = func, ret = true, stack = true }

p:on_event(function(e)
	all = all + 1
	if e.latency < threshold then
		return
	end
	slow = slow + 1
	printf("%s\n%s\n", tostring(e), tostring(e.stack))
	io.stdout:flush()
end)

on_exit(function()
	printf("%d of %d calls took %g ms or more\n", slow, all, threshold / 1e6)
end)
