-- SPDX-License-Identifier: BSD-2-Clause
-- @description One line per call of main.computeE (the seed demo): iterations, pid, goroutine
--
-- The seed demo: one line per call of main.computeE in the computee server,
-- with the iteration count it was asked for, the process and the goroutine.
--
--   sudo luprobe scripts/computee.lua -p $(pidof computee)
--   sudo luprobe scripts/computee.lua -- .output/go/computee/default
local calls = 0

local p = probe{ func = "main.computeE", args = { "iterations" } }

p:on_event(function(e)
	calls = calls + 1
	printf("main.computeE(iterations=%d)  pid %d  goroutine %d\n", e.args.iterations, e.pid, e.goid)
	io.stdout:flush()
end)

on_exit(function()
	printf("%d call%s traced\n", calls, calls == 1 and "" or "s")
end)
