-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.grpc: one record per gRPC call a google.golang.org/grpc server
-- handles or a client makes, unary or streaming, with the full method name,
-- status code and message, and latency.
--
--   local grpc = require "luprobe.grpc"
--   grpc.calls(function(c)
--     printf("%s %s %s(%d) %s\n", c.side, c.method, c.code_name, c.code, fmt.duration(c.latency))
--   end)
--
-- grpc.calls{ on_call = fn, side = "server" | "client" | nil (both),
-- method = "/pkg.Svc/Get" or "/pkg.Svc/" (a service), messages = true,
-- target = "./app", where = "...", within = p } also works. A record is
-- { side, method, code, code_name, message, latency, peer, stream, sent,
-- received, pid, goid, event }: method is "/pkg.Service/Method", code the
-- status number (0 OK, 5 NotFound...; nil when the server wrote none, e.g. a
-- handler goroutine that never returned), code_name its name, message the
-- status message of a call that failed (nil when OK or empty), latency in
-- nanoseconds, peer the client's address ("127.0.0.1:50522", from the server
-- transport; nil on a transport other than TCP) on the server side and the
-- ClientConn's target ("dns:///svc:443" or as given to NewClient) on the
-- client side; stream is nil for a unary call, else "server", "client" or
-- "bidi" (who streams); sent and received, with messages = true, the
-- messages the side sent and received on a stream (a SendMsg or RecvMsg
-- that returned no error; nil for unary calls). With messages, call
-- grpc.calls in the main chunk, before attach(): the server's counters
-- follow the goroutines a handler starts (spawned).
-- `method` filters both sides in the kernel, whatever the grpc release.
-- `where` is a predicate for the kernel on the probed function's parameters:
-- on the server side (side = "server") handleStream's stream, e.g.
-- 'stream.Stream.method == "/pkg.Svc/Get"' (older grpc, as etcd 3.4's:
-- 'stream.method'), on the client side Invoke's method and cc (client
-- streams are then not reported). The returned table holds the probes:
-- { serve, status, stream, invoke, finish, stream_start, stream_finish, and
-- with messages server_send, server_recv, client_send, client_recv } (serve
-- and invoke can be `within` scopes).
--
-- Probes (per unary call, two events on each side: handleStream or Invoke,
-- whose entry and return the engine makes one event, and the status probe;
-- per stream, three on the server, two on the client, and one per message
-- with messages = true):
--   server: (*grpc.Server).handleStream, once per call the server handles
--     (unary and streaming): the method from its stream, the latency from its
--     return; (*transport.http2Server).writeStatus, once per call's final
--     status, st.s.Code and st.s.Message, matched to the call by goroutine;
--     (*Server).processRPC, only for streams (where = the StreamDesc's
--     ServerStreams or ClientStreams), the kind. (*serverStream).SendMsg and
--     RecvMsg count messages within handleStream and the goroutines it
--     starts (spawned), by handleStream's goroutine.
--   client: (*grpc.ClientConn).Invoke, once per unary call: method and
--     cc.target from the arguments, the latency from its return; OK when it
--     returns no error. (*grpc.clientStream).finish, within Invoke, gives the
--     code and message of an error: err.(*status.Error).s.s, matched to the
--     call by goroutine (another error is Unknown, as grpc's status.Code has
--     it). A stream (cc.NewStream) starts at its clientStream's first
--     newAttemptLocked and ends at its first finish (the where of each keeps
--     only those), matched by the clientStream's address, as a stream may end
--     on another goroutine: method, target and kind from the clientStream,
--     the latency between the two, io.EOF as OK. A stream begun before the
--     probes is not reported. (*clientStream).SendMsg and RecvMsg count its
--     messages.
-- Older grpc releases (Debian's etcd 3.4 is built with Debian's grpc, 1.33) name
-- and lay out some of these otherwise: the server's *transport.Stream
-- (stream.method), the transport's remoteAddr, WriteStatus,
-- processStreamingRPC, a *status.Error's proto in .e. Each probe tries the
-- newest layout first, then the older one.
-- Fields are read at the offsets the binary gives (DWARF, or the runtime
-- type descriptors a stripped binary keeps).
local M = {}

local CODES = { [0] = "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
	"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
	"Unauthenticated" }
M.CODES = CODES

local PKG = "google.golang.org/grpc"
local TRANSPORT = PKG .. "/internal/transport"
local STATUS = "*" .. PKG .. "/internal/status.Status"
local CS = "*" .. PKG .. ".clientStream"

local optional = require "luprobe.optional"

local addr = require("luprobe.fmt").addr

-- grpc's releases name and lay out these things otherwise: each list holds
-- the newest (v1.85.0) first, then the older one (Debian's etcd 3.4's,
-- grpc 1.33). The server's stream and the method in it:
local STREAMS = { { "ServerStream", "stream.Stream.method" }, { "Stream", "stream.method" } }
-- the client's address in the server transport
local PEERS = { "peer.Addr", "remoteAddr" }
-- the proto (code, message) in a *status.Error
local ERRS = { "s.s", "e" }
-- the function that writes a server call's status, and the one a streaming
-- call's handler runs in (its StreamDesc says which kind of stream)
local WRITERS = { "writeStatus", "WriteStatus" }
local PROCS = { "processRPC", "processStreamingRPC" }

-- the first of the specifications that makes a probe, and its index; nil
-- when the binary lacks every function; else the first error
local function first(specs)
	local err
	for i, spec in ipairs(specs) do
		local ok, p = pcall(optional, spec)
		if ok and p then
			return p, i
		elseif not ok then
			err = err or p
		end
	end
	if err then
		error(err, 0)
	end
end

-- opts.where and the kernel's test of opts.method on the string at path
local function filter(opts, where, path)
	local m = opts.method
	if m == nil then
		return where
	end
	local test = m:sub(-1) == "/" and string.format('prefix(%s, "%s")', path, m)
		or string.format('%s == "%s"', path, m)
	return where and "(" .. where .. ") and " .. test or test
end

local function kind(srv, cli)
	if srv == true and cli == true then
		return "bidi"
	elseif srv == true then
		return "server"
	elseif cli == true then
		return "client"
	end
end

local function record(on_call, side, method, code, message, latency, peer, e, st)
	on_call{
		side = side,
		method = method,
		code = code,
		code_name = code and (CODES[code] or tostring(code)),
		message = message,
		latency = latency,
		peer = peer,
		stream = st and st.kind,
		sent = st and st.sent,
		received = st and st.received,
		pid = e.pid,
		goid = e.goid,
		event = e,
	}
end

-- with messages: counts the messages sent and received (a call of SendMsg or
-- RecvMsg that returned no error) on the stream key(e) names
local function counters(opts, recv, func, key, streams, spec)
	if not opts.messages then
		return
	end
	for _, m in ipairs{ "SendMsg", "RecvMsg" } do
		local p = optional{
			func = func .. m,
			target = opts.target,
			args = spec.args,
			ret = { { "err", "error" } },
			where = spec.where and (spec.where .. " and err == nil") or "err == nil",
			within = spec.within,
			spawned = spec.within and true or nil,
			deref = 0,
		}
		if p then
			local f = m == "SendMsg" and "sent" or "received"
			p:on_event(function(e)
				local st = streams[key(e)]
				if st then
					st[f] = (st[f] or 0) + 1
				end
			end)
			recv[m] = p
		end
	end
end

local function server_status(opts, serve)
	local specs = {}
	for _, w in ipairs(WRITERS) do
		specs[#specs + 1] = {
			func = TRANSPORT .. ".(*http2Server)." .. w,
			target = opts.target,
			args = { { "t", "uintptr" }, { "s", "uintptr" }, { "st", STATUS }, "st.s.Code", "st.s.Message" },
			strcap = 256,
			within = serve,
		}
	end
	return first(specs)
end

-- the kind of a streaming call, on handleStream's goroutine
local function server_stream(opts, serve)
	local specs = {}
	for _, f in ipairs(PROCS) do
		specs[#specs + 1] = {
			func = PKG .. ".(*Server)." .. f,
			target = opts.target,
			args = { { "s", "uintptr" }, { "ctx", "error" }, { "stream", "uintptr" }, { "info", "uintptr" },
				{ "sd", "*" .. PKG .. ".StreamDesc" }, "sd.ServerStreams", "sd.ClientStreams" },
			where = "sd.ServerStreams or sd.ClientStreams",
			within = serve,
		}
	end
	return first(specs)
end

local function server(opts, on_call, probes)
	local specs, paths = {}, {}
	for _, v in ipairs(STREAMS) do
		for _, peer in ipairs(PEERS) do
			local raddr = "t.(*" .. TRANSPORT .. ".http2Server)." .. peer .. ".(*net.TCPAddr)"
			paths[#paths + 1] = { method = v[2], raddr = raddr }
			specs[#specs + 1] = {
				func = PKG .. ".(*Server).handleStream",
				target = opts.target,
				args = { { "s", "uintptr" }, { "t", "error" }, { "stream", "*" .. TRANSPORT .. "." .. v[1] },
					v[2], raddr .. ".IP", raddr .. ".Port" },
				ret = true,
				strcap = 256,
				where = filter(opts, opts.where, v[2]),
				within = opts.within,
			}
		end
	end
	local serve, i = first(specs)
	if not serve then
		return
	end
	local path = paths[i]
	-- the call's final status and its stream by "pid:goid": handleStream
	-- writes the status, and runs a stream's handler, on its own goroutine
	local codes, streams = {}, {}
	local st = server_status(opts, serve)
	if st then
		st:on_event(function(e)
			local c = e.args["st.s.Code"]
			local m = e.args["st.s.Message"]
			codes[e.pid .. ":" .. e.goid] = { type(c) == "number" and c or nil, type(m) == "string" and m ~= "" and m or nil }
		end)
		probes.status = st
	end
	local proc = server_stream(opts, serve)
	if proc then
		proc:on_event(function(e)
			streams[e.pid .. ":" .. e.goid] = { kind = kind(e.args["sd.ServerStreams"], e.args["sd.ClientStreams"]) }
		end)
		probes.stream = proc
		local recv = {}
		-- a handler may send and receive on goroutines it starts (etcd's Watch does)
		counters(opts, recv, PKG .. ".(*serverStream).", function(e) return e.pid .. ":" .. (e.scope_goid or e.goid) end,
			streams, { args = false, within = serve })
		probes.server_send, probes.server_recv = recv.SendMsg, recv.RecvMsg
	end
	serve:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local c = codes[k] or {}
		local strm = streams[k]
		codes[k], streams[k] = nil, nil
		if strm and opts.messages then
			strm.sent, strm.received = strm.sent or 0, strm.received or 0
		end
		local m = e.args[path.method]
		record(on_call, "server", type(m) == "string" and m or "?", c[1], c[2], e.latency,
			addr(e.args[path.raddr .. ".IP"], e.args[path.raddr .. ".Port"]), e, strm)
	end)
	probes.serve = serve
end
-- a status error's code and message, given finish's err, in the first of
-- ERRS that the binary has
local function errpaths(i)
	local e = "err.(*" .. PKG .. "/internal/status.Error)." .. ERRS[i]
	return e .. ".Code", e .. ".Message"
end

-- finish(err) of unary calls, within Invoke: the call's code and message by
-- "pid:goid" (Invoke finishes its stream on its own goroutine); the first
-- finish counts
local function client_unary_finish(opts, inv)
	local specs = {}
	for i in ipairs(ERRS) do
		local code, msg = errpaths(i)
		specs[i] = {
			func = PKG .. ".(*clientStream).finish",
			target = opts.target,
			args = { { "cs", "uintptr" }, { "err", "error" }, code, msg },
			strcap = 256,
			within = inv,
		}
	end
	local fin, i = first(specs)
	if not fin then
		return
	end
	local code, msg = errpaths(i)
	local codes = {}
	fin:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		if codes[k] == nil then
			local c, m = e.args[code], e.args[msg]
			codes[k] = { type(c) == "number" and c or false, type(m) == "string" and m or nil }
		end
	end)
	return fin, codes
end

-- client streams (cc.NewStream): one record when the stream finishes, its
-- start at its first attempt, both keyed by the *clientStream, as the
-- stream finishes on any goroutine (the caller's, or grpc's that watches the
-- context); a stream that started before the probes is not reported
local function client_streams(opts, on_call, probes)
	local STREAMING = "(cs.desc.ServerStreams or cs.desc.ClientStreams)"
	local start = optional{
		func = PKG .. ".(*clientStream).newAttemptLocked",
		target = opts.target,
		args = { { "cs", CS }, "cs" },
		deref = 0,
		strcap = 256,
		-- the first attempt of a stream: later ones are retries
		where = filter(opts, "cs.attempt == nil and " .. STREAMING, "cs.callHdr.Method"),
		within = opts.within,
	}
	if not start then
		return
	end
	local specs = {}
	for i in ipairs(ERRS) do
		local code, msg = errpaths(i)
		specs[i] = {
			func = PKG .. ".(*clientStream).finish",
			target = opts.target,
			args = { { "cs", CS }, { "err", "error" }, "cs", "err", "cs.callHdr.Method", "cs.cc.target",
				"cs.desc.ServerStreams", "cs.desc.ClientStreams", code, msg, "err.(*errors.errorString).s" },
			deref = 0,
			strcap = 256,
			-- grpc calls finish again after the first (the context's watcher)
			where = "not cs.finished and " .. STREAMING,
		}
	end
	local fin, i = first(specs)
	if not fin then
		return
	end
	local code, msg = errpaths(i)
	local streams = {}
	start:on_event(function(e)
		streams[e.pid .. ":" .. tostring(e.args.cs)] = { ts = e.ts }
	end)
	fin:on_event(function(e)
		local a = e.args
		local k = e.pid .. ":" .. tostring(a.cs)
		local st = streams[k]
		if not st then
			return
		end
		streams[k] = nil
		local c, m = 0, nil
		-- io.EOF ends a stream well, as finish has it
		if a.err ~= nil and a["err.(*errors.errorString).s"] ~= "EOF" then
			c = a[code]
			c = type(c) == "number" and c or 2
			m = a[msg]
			m = type(m) == "string" and m ~= "" and m or nil
		end
		st.kind = kind(a["cs.desc.ServerStreams"], a["cs.desc.ClientStreams"])
		if opts.messages then
			st.sent, st.received = st.sent or 0, st.received or 0
		end
		local t, meth = a["cs.cc.target"], a["cs.callHdr.Method"]
		record(on_call, "client", type(meth) == "string" and meth or "?", c, m, e.ts - st.ts,
			type(t) == "string" and t or nil, e, st)
	end)
	probes.stream_start, probes.stream_finish = start, fin
	local recv = {}
	counters(opts, recv, PKG .. ".(*clientStream).", function(e) return e.pid .. ":" .. tostring(e.args.cs) end,
		streams, { args = { { "cs", CS }, "cs" }, where = STREAMING })
	probes.client_send, probes.client_recv = recv.SendMsg, recv.RecvMsg
end

local function client(opts, on_call, probes)
	local inv = optional{
		func = PKG .. ".(*ClientConn).Invoke",
		target = opts.target,
		args = { { "cc", "*" .. PKG .. ".ClientConn" }, { "ctx", "error" }, { "method", "string" },
			"method", "cc.target" },
		ret = { { "err", "error" } },
		strcap = 256,
		where = filter(opts, opts.where, "method"),
		within = opts.within,
	}
	if not inv then
		return
	end
	local fin, codes = client_unary_finish(opts, inv)
	probes.finish = fin
	codes = codes or {}
	inv:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local c = codes[k] or {}
		codes[k] = nil
		local code, msg = 0, nil
		if e.err ~= nil then
			-- an error that is not a *status.Error is Unknown, as grpc's status.Code has it
			code = type(c[1]) == "number" and c[1] or 2
			msg = c[2] ~= "" and c[2] or nil
		end
		local t = e.args["cc.target"]
		record(on_call, "client", e.args.method, code, msg, e.latency, type(t) == "string" and t or nil, e)
	end)
	probes.invoke = inv
	-- the client's where is on Invoke's parameters: with one, streams are not reported
	if opts.where == nil then
		client_streams(opts, on_call, probes)
	end
end

function M.calls(opts)
	if type(opts) == "function" then
		opts = { on_call = opts }
	end
	local on_call = opts.on_call or error("luprobe.grpc.calls: on_call is required", 2)
	if opts.method ~= nil and (type(opts.method) ~= "string" or not opts.method:match("^/[%w%._/%-]+$")) then
		error("luprobe.grpc.calls: method is a full method name (\"/pkg.Service/Method\") or a service (\"/pkg.Service/\")", 2)
	end
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
