-- SPDX-License-Identifier: BSD-2-Clause
-- @description The calls made inside the calls of a function that returned an error
-- @arg func   the outer function, one that returns an error (required)
-- @arg calls  the functions to show inside it, a name or a glob (required)
--
--   sudo luprobe scripts/error-requests.lua -a func=main.handleOrder \
--       -a 'calls=database/sql.(*DB).*Context' -p $(pidof app)
--
-- The calls of `calls` made inside a call of `func` (on its goroutine and on
-- the goroutines it started) are held until it returns; they are printed
-- when it returned an error, and dropped otherwise.
local speculate = require "luprobe.speculate"
local fmt = require "luprobe.fmt"

local func = luprobe.args.func or error("give the outer function: -a func=NAME")
local calls = luprobe.args.calls or error("give the functions inside it: -a calls=GLOB")

speculate{
	outer = probe{ func = func, ret = true },
	inner = { { func = calls, ret = true } },
	keep = function(call) return call.err ~= nil end,
	on_keep = function(call, events)
		print(call)
		for _, e in ipairs(events) do
			printf("  +%-9s %s\n", fmt.duration(e.ts - call.ts), tostring(e))
		end
		if call.dropped > 0 then
			printf("  (%d more not held)\n", call.dropped)
		end
		io.stdout:flush()
	end,
}
