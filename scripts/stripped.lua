-- SPDX-License-Identifier: BSD-2-Clause
-- @description computeE's argument and latency in a stripped build, from declared types
--
-- Tracing a stripped binary (no DWARF): declare the arguments and results,
-- every parameter in order, in Go syntax. Here the computee seed built with
-- -ldflags="-s -w", and its handler's computeE(iterations int64) float64.
--
--   sudo luprobe scripts/stripped.lua -- .output/go/computee/stripped
--
-- The result is a float64 returned in register X0, which a uprobe cannot
-- read: it prints as ?, never as a made-up number. The latency is exact.
local p = probe{
	func = "main.computeE",
	args = { {"iterations", "int64"} },
	ret = { "float64" },
}

p:on_event(function(e)
	printf("computeE(%d) took %.1f µs  (result %s)\n", e.args.iterations, e.latency / 1e3, tostring(e.ret[1]))
	io.stdout:flush()
end)
