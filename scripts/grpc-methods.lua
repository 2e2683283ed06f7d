-- SPDX-License-Identifier: BSD-2-Clause
-- @description gRPC calls by method (google.golang.org/grpc): count, errors by code, average and slowest latency, and messages of streams, printed at exit or every N seconds
-- @arg side    server or client (default: server)
-- @arg every   print (and start over) every this many seconds (default: at exit)
--
--   sudo luprobe scripts/grpc-methods.lua -p $(pidof etcd)
--   sudo luprobe scripts/grpc-methods.lua -a side=client -- etcdctl put k v
--
-- Streams count their messages (sent/received by this side), at one event
-- per message: on a busy stream that costs what a probe per call costs.
local grpc = require "luprobe.grpc"
local fmt = require "luprobe.fmt"

local by = {}

grpc.calls{ side = luprobe.args.side or "server", messages = true, on_call = function(c)
	local m = by[c.method]
	if not m then
		m = { n = 0, total = 0, max = 0, errors = {}, sent = 0, received = 0 }
		by[c.method] = m
	end
	m.n = m.n + 1
	m.total = m.total + (c.latency or 0)
	m.max = math.max(m.max, c.latency or 0)
	m.stream = c.stream or m.stream
	m.sent, m.received = m.sent + (c.sent or 0), m.received + (c.received or 0)
	if c.code ~= 0 then
		local k = c.code_name or "-"
		m.errors[k] = (m.errors[k] or 0) + 1
	end
end }

local function show()
	local names = {}
	for k in pairs(by) do
		names[#names + 1] = k
	end
	table.sort(names)
	printf("%-44s %7s %10s %10s  %s\n", "method", "calls", "avg", "max", "errors, messages")
	for _, k in ipairs(names) do
		local m = by[k]
		local errs = {}
		for code, n in pairs(m.errors) do
			errs[#errs + 1] = code .. "=" .. n
		end
		table.sort(errs)
		if m.stream then
			errs[#errs + 1] = string.format("(%s-stream: %d sent, %d received)", m.stream, m.sent, m.received)
		end
		printf("%-44s %7d %10s %10s  %s\n", k, m.n, fmt.duration(m.total // m.n), fmt.duration(m.max),
			#errs > 0 and table.concat(errs, " ") or "-")
	end
	io.stdout:flush()
end

local every_s = tonumber(luprobe.args.every)
if every_s then
	every(every_s * 1000, function()
		show()
		by = {}
	end)
end
on_exit(show)
