-- SPDX-License-Identifier: BSD-2-Clause
-- @description The SQL queries of HTTP requests slower than a threshold, with their stacks
-- @arg ms       the threshold in milliseconds (default 100)
-- @arg handler  the function a request runs in (default net/http.serverHandler.ServeHTTP)
--
--   sudo luprobe scripts/slow-requests-sql.lua -a ms=250 -p $(pidof app)
--
-- Every query made inside a request, on its goroutine or on any goroutine it
-- started (workers, fan-out), is held until the request returns; only those
-- of slow requests are printed. Queries outside requests cost no event.
local speculate = require "luprobe.speculate"
local fmt = require "luprobe.fmt"

local ms = tonumber(luprobe.args.ms or 100) or error("ms must be a number of milliseconds")
local req = probe{ func = luprobe.args.handler or "net/http.serverHandler.ServeHTTP",
	args = false, ret = {} }

-- database/sql's own entry points, declared: no DWARF needed
local ARGS = { { "recv", "uintptr" }, { "ctx", "error" }, { "query", "string" } }
local inner = {}
for _, f in ipairs{ "database/sql.(*DB).QueryContext", "database/sql.(*DB).ExecContext" } do
	-- a program may use one and not the other: the linker keeps only what is called
	local ok, p = pcall(probe, { func = f, args = ARGS, ret = {}, stack = true, strcap = 256,
		within = req, spawned = true })
	if ok then
		inner[#inner + 1] = p
	elseif not tostring(p):find("no such function", 1, true) then
		error(p, 0)
	end
end
if #inner == 0 then
	error("the program does not use database/sql's DB.QueryContext or DB.ExecContext", 0)
end

speculate{
	outer = req,
	inner = inner,
	keep = function(call) return call.latency >= ms * 1e6 end,
	on_keep = function(call, events)
		printf("request %s goroutine %d: %d quer%s\n", fmt.duration(call.latency), call.goid,
			#events, #events == 1 and "y" or "ies")
		for _, e in ipairs(events) do
			printf("  %9s  %s  goroutine %d\n", fmt.duration(e.latency), e.args.query, e.goid)
			printf("%s\n", tostring(e.stack):gsub("\n*$", ""):gsub("([^\n]+)", "    %1"))
		end
		io.stdout:flush()
	end,
}
