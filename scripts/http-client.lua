-- SPDX-License-Identifier: BSD-2-Clause
-- @description HTTP calls a Go program makes (net/http's Client): latency by host and path, count by status or error
-- @arg max_paths  distinct paths kept apart (default 100; the rest count as "(other)")
-- @arg header     also show this request header of each call, e.g. X-Request-Id (optional)
--
--   sudo luprobe scripts/http-client.lua -p $(pidof service)
--
-- One line per call as it returns, then at exit the latency histogram of each
-- host and path, and the calls by status (or error). Works on stripped
-- binaries (see lua/luprobe/http.lua).
local http = require "luprobe.http"
local agg = require "luprobe.agg"
local fmt = require "luprobe.fmt"

local header = luprobe.args.header and http.header_name(luprobe.args.header)
local latency = agg.hist{ title = "client latency by call", unit = "ns" }
local outcomes = agg.count("client calls by status")

http.client{
	max_paths = tonumber(luprobe.args.max_paths) or 100,
	headers = header and { header } or nil,
	on_call = function(c)
		printf("%-6s %-50s %-5s %s%s\n", c.method, c.url, c.status or "error",
			c.err or fmt.duration(c.latency),
			header and string.format("  %s=%s", header, c.headers[header] or "-") or "")
		latency:add(c.latency, c.method .. " " .. c.host .. c.path)
		outcomes:add(c.status or ("error " .. c.err))
	end,
}
