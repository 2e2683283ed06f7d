-- SPDX-License-Identifier: BSD-2-Clause
-- @description HTTP requests of a Go server (HTTP/1 and HTTP/2), one line each, with chosen request headers
-- @arg headers  comma-separated request header names (default X-Request-Id,Traceparent)
--
--   sudo luprobe scripts/http-requests.lua -p $(pidof server)
--   sudo luprobe scripts/http-requests.lua -a headers=User-Agent,X-Forwarded-For -p $(pidof server)
--
-- Works on any net/http server, stripped or not (see lua/luprobe/http.lua).
-- The headers are read in the kernel from the request's r.Header, a Go map:
-- each one's first value, "-" when the request has none.
local http = require "luprobe.http"
local fmt = require "luprobe.fmt"

local names = {}
for h in (luprobe.args.headers or "X-Request-Id,Traceparent"):gmatch("[^,%s]+") do
	names[#names + 1] = h
end

http.requests{ headers = names, on_request = function(r)
	local out = {}
	for _, h in ipairs(names) do
		-- the record keys them by canonical name, as net/http does
		local c = http.header_name(h)
		out[#out + 1] = string.format("%s=%s", c, r.headers[c] or "-")
	end
	printf("%s %s %s %s %s %s\n", r.method, r.path, r.proto, r.status or "-",
		r.latency and fmt.duration(r.latency) or "-", table.concat(out, " "))
	io.stdout:flush()
end }
