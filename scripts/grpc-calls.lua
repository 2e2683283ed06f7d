-- SPDX-License-Identifier: BSD-2-Clause
-- @description gRPC calls of a Go server or client (google.golang.org/grpc): one line per call or stream with its status code and message, and latency
-- @arg side    server or client (default: both)
-- @arg errors  1: only the calls whose code is not OK
-- @arg method  only this method ("/pkg.Service/Method") or service ("/pkg.Service/")
--
--   sudo luprobe scripts/grpc-calls.lua -a side=server -p $(pidof server)
--   sudo luprobe scripts/grpc-calls.lua -a method=/etcdserverpb.KV/ -p $(pidof etcd)
--
-- Works stripped or not, on the grpc releases lua/luprobe/grpc.lua names. A
-- server call the server wrote no status for shows code "-"; a stream shows
-- its kind (server, client, bidi: who streams) after the peer.
local grpc = require "luprobe.grpc"
local fmt = require "luprobe.fmt"

local errors_only = luprobe.args.errors == "1"

grpc.calls{ side = luprobe.args.side, method = luprobe.args.method, on_call = function(c)
	if errors_only and c.code == 0 then
		return
	end
	printf("%-6s %-40s %-18s %10s %s%s%s\n", c.side, c.method,
		c.code and string.format("%s(%d)", c.code_name, c.code) or "-",
		c.latency and fmt.duration(c.latency) or "-", c.peer or "-",
		c.stream and " " .. c.stream .. "-stream" or "",
		c.message and string.format(" %q", c.message) or "")
	io.stdout:flush()
end }
