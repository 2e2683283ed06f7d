-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.grpc: one record per gRPC call a google.golang.org/grpc server
-- handles or a client makes, with the full method name, status code and
-- latency.
--
--   local grpc = require "luprobe.grpc"
--   grpc.calls(function(c)
--     printf("%s %s %s(%d) %s\n", c.side, c.method, c.code_name, c.code, fmt.duration(c.latency))
--   end)
--
-- grpc.calls{ on_call = fn, side = "server" | "client" | nil (both),
-- target = "./app", where = "...", within = p } also works. A record is
-- { side, method, code, code_name, latency, peer, pid, goid, event }:
-- method is "/pkg.Service/Method", code the status number (0 OK, 5
-- NotFound...; nil when the server wrote none, e.g. a handler goroutine that
-- never returned), code_name its name, latency in nanoseconds, peer the
-- client's address ("127.0.0.1:50522", from the server transport; nil on a
-- transport other than TCP) on the server side and the ClientConn's target
-- ("dns:///svc:443" or as given to NewClient) on the client side.
-- `where` is a predicate for the kernel on the probed function's parameters:
-- on the server side (side = "server") handleStream's stream, e.g.
-- 'stream.Stream.method == "/pkg.Svc/Get"', on the client side Invoke's
-- method and cc. The returned table holds the probes: { serve, status,
-- invoke, finish } (serve and invoke can be `within` scopes).
--
-- Probes (four at most, two per side; per call, two events on each side:
-- handleStream or Invoke, whose entry and return the engine makes one event,
-- and the status probe):
--   server: (*grpc.Server).handleStream, once per stream the server
--     handles (unary and streaming): method from stream.Stream.method, the
--     latency from its return; (*transport.http2Server).writeStatus, once per
--     call's final status, st.s.Code, matched to the call by goroutine.
--   client: (*grpc.ClientConn).Invoke, once per unary call: method and
--     cc.target from the arguments, the latency from its return; OK when it
--     returns no error. (*grpc.clientStream).finish, within Invoke, gives the
--     code of an error: err.(*status.Error).s.s.Code, matched to the call by
--     goroutine (another error is Unknown, as grpc's status.Code has it).
--     Streaming client calls are not seen.
-- Fields are read at the offsets the binary gives (DWARF, or the runtime
-- type descriptors a stripped binary keeps).
local M = {}

local CODES = { [0] = "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
	"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
	"Unauthenticated" }
M.CODES = CODES

local PKG = "google.golang.org/grpc"
-- the server transport's remote address
local RADDR = "t.(*" .. PKG .. "/internal/transport.http2Server).peer.Addr.(*net.TCPAddr)"

local optional = require "luprobe.optional"

local addr = require("luprobe.fmt").addr

local function record(on_call, side, method, code, latency, peer, e)
	on_call{
		side = side,
		method = method,
		code = code,
		code_name = code and (CODES[code] or tostring(code)),
		latency = latency,
		peer = peer,
		pid = e.pid,
		goid = e.goid,
		event = e,
	}
end

local function server(opts, on_call, probes)
	local serve = optional{
		func = PKG .. ".(*Server).handleStream",
		target = opts.target,
		args = { { "s", "uintptr" }, { "t", "error" },
			{ "stream", "*" .. PKG .. "/internal/transport.ServerStream" },
			"stream.Stream.method", RADDR .. ".IP", RADDR .. ".Port" },
		ret = true,
		strcap = 256,
		where = opts.where,
		within = opts.within,
	}
	if not serve then
		return
	end
	local st = optional{
		func = PKG .. "/internal/transport.(*http2Server).writeStatus",
		target = opts.target,
		args = { { "t", "uintptr" }, { "s", "uintptr" },
			{ "st", "*" .. PKG .. "/internal/status.Status" }, "st.s.Code" },
		within = serve,
	}
	-- final status by "pid:goid": handleStream writes it on its own goroutine
	local codes = {}
	if st then
		st:on_event(function(e)
			local c = e.args["st.s.Code"]
			codes[e.pid .. ":" .. e.goid] = type(c) == "number" and c or nil
		end)
		probes.status = st
	end
	serve:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local code = codes[k]
		codes[k] = nil
		local m = e.args["stream.Stream.method"]
		record(on_call, "server", type(m) == "string" and m or "?", code, e.latency,
			addr(e.args[RADDR .. ".IP"], e.args[RADDR .. ".Port"]), e)
	end)
	probes.serve = serve
end

local function client(opts, on_call, probes)
	local inv = optional{
		func = PKG .. ".(*ClientConn).Invoke",
		target = opts.target,
		args = { { "cc", "*" .. PKG .. ".ClientConn" }, { "ctx", "error" }, { "method", "string" },
			"method", "cc.target" },
		ret = { { "err", "error" } },
		strcap = 256,
		where = opts.where,
		within = opts.within,
	}
	if not inv then
		return
	end
	local ERRCODE = "err.(*" .. PKG .. "/internal/status.Error).s.s.Code"
	local fin = optional{
		func = PKG .. ".(*clientStream).finish",
		target = opts.target,
		args = { { "cs", "uintptr" }, { "err", "error" }, ERRCODE },
		within = inv,
	}
	-- the call's code by "pid:goid": Invoke finishes its stream on its own
	-- goroutine; the first finish counts
	local codes = {}
	if fin then
		fin:on_event(function(e)
			local k = e.pid .. ":" .. e.goid
			if codes[k] == nil then
				local c = e.args[ERRCODE]
				codes[k] = type(c) == "number" and c or false
			end
		end)
		probes.finish = fin
	end
	inv:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local c = codes[k]
		codes[k] = nil
		local code = 0
		if e.err ~= nil then
			-- an error that is not a *status.Error is Unknown, as grpc's status.Code has it
			code = type(c) == "number" and c or 2
		end
		local t = e.args["cc.target"]
		record(on_call, "client", e.args.method, code, e.latency, type(t) == "string" and t or nil, e)
	end)
	probes.invoke = inv
end

function M.calls(opts)
	if type(opts) == "function" then
		opts = { on_call = opts }
	end
	local on_call = opts.on_call or error("luprobe.grpc.calls: on_call is required", 2)
	local probes = {}
	if opts.side ~= "client" then
		server(opts, on_call, probes)
	end
	if opts.side ~= "server" then
		client(opts, on_call, probes)
	end
	if next(probes) == nil then
		error("luprobe.grpc: the binary does not use google.golang.org/grpc", 2)
	end
	return probes
end

return M
