-- SPDX-License-Identifier: BSD-2-Clause
-- @description database/sql queries of a Go program: text, latency, error; a summary at exit
-- @arg slow  only log queries slower than this many milliseconds (default 0: all)
--
--   sudo luprobe scripts/sql-log.lua -p $(pidof app)
local sql = require "luprobe.sql"
local fmt = require "luprobe.fmt"
local agg = require "luprobe.agg"

local slow = (tonumber(luprobe.args.slow) or 0) * 1e6
local errors = agg.count("errors by query")
local total = agg.sum{ title = "time in queries", unit = "ns" }

sql.queries(function(q)
	total:add(q.latency)
	if q.err then
		errors:add(q.query)
	end
	if q.latency >= slow then
		printf("%-5s %9s  %s%s\n", q.kind, fmt.duration(q.latency), q.query, q.err and ("  error: " .. q.err) or "")
		io.stdout:flush()
	end
end)
