-- SPDX-License-Identifier: BSD-2-Clause
-- @description SQL queries made while serving one HTTP path, and nothing else
-- @arg path  the request path to follow (required), e.g. /users/13
--
--   sudo luprobe scripts/trace-path.lua -a path=/users/13 -p $(pidof webapp)
--
-- Conditional tracing: the SQL probes fire only in goroutines that are inside
-- a request for that path (within = ...); the kernel decides, so queries of
-- other requests cost no event at all.
local http = require "luprobe.http"
local sql = require "luprobe.sql"
local fmt = require "luprobe.fmt"

local path = luprobe.args.path or error("give the path: -a path=/users/13")

local requests = http.requests{
	where = string.format("req.URL.Path == %q", path),
	on_request = function(r)
		printf("%s %s -> %s in %s\n", r.method, r.path, r.status or r.note,
			r.latency and fmt.duration(r.latency) or "-")
		io.stdout:flush()
	end,
}

sql.queries{
	within = requests.serve,
	on_query = function(q)
		printf("  %s %q%s\n", q.kind, q.query, q.err and ("  error: " .. q.err) or "")
		io.stdout:flush()
	end,
}
