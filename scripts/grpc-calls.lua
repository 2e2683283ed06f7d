-- SPDX-License-Identifier: BSD-2-Clause
-- @description gRPC calls of a Go server or client (google.golang.org/grpc): one line per call with its status code and latency
-- @arg side    server or client (default: both)
-- @arg errors  1: only the calls whose code is not OK
--
--   sudo luprobe scripts/grpc-calls.lua -a side=server -p $(pidof server)
--
-- Works stripped or not (see lua/luprobe/grpc.lua). A server call the
-- server wrote no status for shows code "-".
local grpc = require "luprobe.grpc"
local fmt = require "luprobe.fmt"

local errors_only = luprobe.args.errors == "1"

grpc.calls{ side = luprobe.args.side, on_call = function(c)
	if errors_only and c.code == 0 then
		return
	end
	printf("%-6s %-40s %-18s %10s %s\n", c.side, c.method,
		c.code and string.format("%s(%d)", c.code_name, c.code) or "-",
		c.latency and fmt.duration(c.latency) or "-", c.peer or "-")
	io.stdout:flush()
end }
