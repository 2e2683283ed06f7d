-- SPDX-License-Identifier: BSD-2-Clause
-- @description HTTP requests of a Go server (HTTP/1 and HTTP/2): latency histogram by path, count by status
-- @arg every  print (and start over) every this many seconds (default: at exit)
--
--   sudo luprobe scripts/http-latency.lua -p $(pidof server)
--
-- Works on any net/http server, stripped or not (see lua/luprobe/http.lua).
-- A request without a status (its handler panicked, or hijacked the
-- connection) counts as "none", with no latency when the handler never returned.
local http = require "luprobe.http"
local agg = require "luprobe.agg"

local latency = agg.hist{ title = "latency by path", unit = "ns" }
local statuses = agg.count("requests by status")

http.requests(function(r)
	latency:add(r.latency, r.method .. " " .. r.path)
	statuses:add(r.status or "none")
end)

local every_s = tonumber(luprobe.args.every)
if every_s then
	every(every_s * 1000, function()
		latency:print()
		statuses:print()
		latency:clear()
		statuses:clear()
		io.stdout:flush()
	end)
end
