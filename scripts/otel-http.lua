-- SPDX-License-Identifier: BSD-2-Clause
-- @description HTTP requests of a Go server as OpenTelemetry traces (run with --otlp URL)
-- @arg calls  also a child span for each call of these functions inside a request, a name or a glob (optional)
-- @arg sql    1: also a child span for each database/sql query inside a request (optional)
--
--   sudo luprobe --otlp http://127.0.0.1:4318 scripts/otel-http.lua -p $(pidof server) \
--       -a calls='main.*'
--
-- Each request a server span "GET /path" with the semantic-convention
-- attributes (http.request.method, url.path, http.response.status_code,
-- network.protocol.version); a request carrying a W3C traceparent header
-- joins the caller's trace. The
-- calls given with -a calls are child spans of the request that made them
-- (the same goroutine), with their arguments and results as attributes;
-- with -a sql=1, so are the queries (db.query.text, db.operation.name).
local otel = require "luprobe.otel"

if not otel.enabled() then
	error("give the collector: --otlp http://HOST:4318")
end
otel.requests()
if luprobe.args.sql == "1" then
	otel.queries()
end
if luprobe.args.calls then
	-- --otlp makes these spans by itself; on_event only keeps them off stdout
	on_event(probe{ func = luprobe.args.calls, ret = true }, function() end)
end
-- what was sent, dropped or not sent: luprobe's summary line at exit
