-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.otel: OpenTelemetry spans from a script, sent by --otlp URL.
--
-- With --otlp alone every call of every probe is a span (name: the Go
-- function; attributes: its arguments as arg.NAME, its results as return or
-- return.NAME, go.goroutine.id, process.pid, thread.id), nested calls on one
-- goroutine parent and child. This module is for scripts that want more:
--
--   local otel = require "luprobe.otel"
--   otel.requests()                        -- each HTTP request a server span
--   otel.export(probe{ func = "main.lookupUser", args = { "id" }, ret = true },
--     { name = "lookup", attrs = function(e) return { ["user.id"] = e.args.id } end })
--
-- otel.span{ name, start, ["end"], kind, attrs, trace_id, parent_id, goid, pid }
--   sends a span: start and end in wall-clock nanoseconds (e.time, and
--   e.time + e.latency), kind "internal" (default), "server" or "client",
--   attrs a table of string, number and boolean values, trace_id (32 hex
--   digits) and parent_id (16) to join a trace, goid and pid to nest the
--   traced calls of that goroutine under it. Returns the span's id (hex), or
--   nil and why (no --otlp; the queue was full: the span is counted dropped).
-- otel.export(p, { name = string | function(e), attrs = function(e), kind })
--   p's calls become spans made so (instead of the automatic ones).
-- otel.auto(false): no automatic spans; only those the script makes.
-- otel.service(name): service.name (default: the binary's Go module path).
-- otel.requests{ ...luprobe.http.requests options..., attrs = function(rec) }:
--   each request handled a span of kind server named "METHOD PATH", with the
--   semantic-convention attributes of otel.http(rec); a request carrying a
--   valid W3C traceparent header joins that trace (the header is added to
--   the headers luprobe.http reads; traceparent = false: not read, where
--   the binary's map lookups cannot be done). Returns luprobe.http's probes.
-- otel.client(opts), otel.grpc_calls(opts), otel.queries(opts): the same for
--   luprobe.http.client (client spans "GET", joining the trace of a
--   traceparent the request carried), luprobe.grpc.calls (server or client
--   spans "pkg.Service/Method") and luprobe.sql.queries (client spans named
--   after the operation, "SELECT"), each with the attributes below; a span
--   made inside a traced call or request of its goroutine is its child.
-- otel.http(rec), otel.http_client(rec), otel.grpc(rec), otel.sql(rec): the
--   semantic-convention attributes of the batteries' records.
-- otel.traceparent(s): trace_id, parent_id, flags of a W3C traceparent
--   ("00-<32 hex>-<16 hex>-<2 hex>"), or nil when it is not a valid one.
-- otel.enabled(): --otlp was given.  otel.stats(): { sent, dropped, failed,
--   queued, spans } (also luprobe.stats().otlp).
local C = luprobe._otel
local M = {}

function M.enabled()
	return C.enabled()
end

function M.stats()
	return C.stats()
end

function M.service(name)
	if type(name) ~= "string" or name == "" then
		error("otel.service: a non-empty string is required", 2)
	end
	C.service(name)
end

function M.auto(on)
	C.auto(nil, on ~= false)
end

function M.span(s)
	if type(s) ~= "table" then
		error("otel.span: a table is required", 2)
	end
	return C.span(s)
end

-- ---- W3C trace context ----

local ZERO_TRACE = string.rep("0", 32)
local ZERO_SPAN = string.rep("0", 16)

local TRACEPARENT = "^(%x%x)%-(" .. string.rep("%x", 32) .. ")%-(" .. string.rep("%x", 16)
	.. ")%-(%x%x)(.*)$"

function M.traceparent(s)
	if type(s) ~= "string" then
		return nil
	end
	s = s:match("^[ \t]*(.-)[ \t]*$")
	if s:find("%u") then -- lowercase hex only
		return nil
	end
	local version, trace, parent, flags, rest = s:match(TRACEPARENT)
	if not version or version == "ff" then
		return nil
	end
	-- version 00 has exactly four fields; a later one may add more after a dash
	if (version == "00" and rest ~= "") or (rest ~= "" and rest:sub(1, 1) ~= "-") then
		return nil
	end
	if trace == ZERO_TRACE or parent == ZERO_SPAN then
		return nil
	end
	return trace, parent, flags
end

-- ---- the batteries' records, as semantic-convention attributes ----

local function split_addr(addr)
	if type(addr) ~= "string" then
		return nil
	end
	local host, port = addr:match("^%[(.*)%]:(%d+)$")
	if not host then
		host, port = addr:match("^([^:]*):(%d+)$")
	end
	return host or addr, port and tonumber(port)
end

function M.http(rec)
	local a = {
		["http.request.method"] = rec.method,
		["url.path"] = rec.path,
		["network.protocol.name"] = "http",
	}
	if type(rec.proto) == "string" then
		a["network.protocol.version"] = rec.proto:match("^HTTP/(.*)$")
	end
	if rec.status then
		a["http.response.status_code"] = math.tointeger(rec.status)
	end
	if rec.note then
		a["luprobe.note"] = rec.note
	end
	local h = type(rec.headers) == "table" and rec.headers or nil
	if h and type(h.Host) == "string" then
		a["server.address"], a["server.port"] = split_addr(h.Host)
	end
	if h and type(h["User-Agent"]) == "string" then
		a["user_agent.original"] = h["User-Agent"]
	end
	return a
end

function M.http_client(rec)
	local a = {
		["http.request.method"] = rec.method,
		["url.full"] = rec.url,
		["url.path"] = rec.path,
		["url.scheme"] = rec.scheme,
	}
	if rec.host then
		a["server.address"], a["server.port"] = split_addr(rec.host)
	end
	if rec.status then
		a["http.response.status_code"] = math.tointeger(rec.status)
	end
	if rec.err then
		a["error.type"] = tostring(rec.err)
	end
	return a
end

function M.grpc(rec)
	local a = { ["rpc.system"] = "grpc", ["rpc.grpc.status_code"] = rec.code }
	local service, method = (rec.method or ""):match("^/?([^/]+)/([^/]+)$")
	a["rpc.service"], a["rpc.method"] = service, method
	if rec.code_name and rec.code ~= 0 then
		a["error.type"] = rec.code_name
	end
	if rec.side == "server" and rec.peer then
		a["client.address"], a["client.port"] = split_addr(rec.peer)
	elseif rec.peer then
		a["server.address"] = rec.peer
	end
	return a
end

function M.sql(rec)
	local a = { ["db.query.text"] = rec.query }
	local op = type(rec.query) == "string" and rec.query:match("^%s*(%a+)")
	if op then
		a["db.operation.name"] = op:upper()
	end
	if rec.err then
		a["error.type"] = tostring(rec.err)
	end
	return a
end

-- ---- spans of events ----

local function merge(into, from)
	if type(from) == "table" then
		for k, v in pairs(from) do
			into[k] = v
		end
	end
	return into
end

-- A span from start to stop, nested with the traced calls of who's goroutine
-- (who: an event or a battery's record): base attributes, then the goroutine
-- and process, then the script's own (extra).
local function span_of(who, start, stop, name, kind, base, extra, trace, parent)
	return C.span{ name = name, kind = kind, start = start, ["end"] = stop, goid = who.goid,
		pid = who.pid, trace_id = trace, parent_id = parent,
		attrs = merge(merge(base or {}, { ["go.goroutine.id"] = who.goid,
			["process.pid"] = who.pid }), extra) }
end

-- a span of an event with an entry and a return (nil for the others)
local function event_span(e, name, kind, attrs)
	if not e.latency or not e.time then
		return nil
	end
	return span_of(e, e.time, e.time + e.latency, name, kind, nil, attrs)
end

function M.export(p, opts)
	opts = opts or {}
	if type(p) ~= "userdata" or not p.id then
		error("otel.export: a probe is required", 2)
	end
	C.auto(p.id, false)
	local name, attrs, kind = opts.name, opts.attrs, opts.kind
	on_event(p, function(e)
		local n = type(name) == "function" and name(e) or name or e.func
		event_span(e, n, kind, attrs and attrs(e))
	end)
	return p
end

-- headers, and traceparent among them
local function with_traceparent(http, headers)
	local hs, seen = {}, false
	for i, h in ipairs(headers or {}) do
		hs[i] = h
		seen = seen or (type(h) == "string" and http.header_name(h) == "Traceparent")
	end
	if not seen then
		hs[#hs + 1] = "traceparent"
	end
	return hs
end

-- The interval of a battery's record: from its event's entry when the event is
-- the call the record times (the same latency), else up to the event (an end
-- seen by a probe of its own, as a gRPC client stream's: the record's latency
-- runs before it).
local function interval(rec)
	local e = rec.event
	if not e or not e.time or math.type(rec.latency) ~= "integer" then
		return nil
	end
	if e.latency == rec.latency then
		return e.time, e.time + rec.latency
	end
	return e.time - rec.latency, e.time
end

-- A span of a battery's record.
local function record_span(rec, name, kind, base, extra, trace, parent)
	local start, stop = interval(rec)
	if not start then
		return nil
	end
	return span_of(rec, start, stop, name, kind, base, extra, trace, parent)
end

-- The trace context of the caller a record's request names (its traceparent
-- header), or nothing.
local function caller(rec)
	local h = type(rec.headers) == "table" and rec.headers or nil
	return M.traceparent(h and h.Traceparent)
end

-- The battery's options o read traceparent among the headers, unless
-- traceparent = false (a binary whose map lookups luprobe cannot do).
local function read_caller(http, o)
	if o.traceparent ~= false then
		o.headers = with_traceparent(http, o.headers)
	end
	o.traceparent = nil
	return o
end

-- Copy a battery's options, wrapping its record callback cb: each record a span
-- made by mk(rec), then the script's own callback.
local function wrap(opts, cb, mk)
	if type(opts) == "function" then
		opts = { [cb] = opts }
	end
	opts = opts or {}
	local o, user, extra = {}, opts[cb], opts.attrs
	for k, v in pairs(opts) do
		o[k] = v
	end
	o.attrs = nil
	o[cb] = function(rec)
		mk(rec, extra and extra(rec))
		if user then
			user(rec)
		end
	end
	return o
end

-- The automatic spans of a battery's probes are the records' spans instead.
local function own(probes)
	for _, p in pairs(probes) do
		if type(p) == "userdata" then
			C.auto(p.id, false)
		end
	end
	return probes
end

function M.requests(opts)
	local http = require "luprobe.http"
	return own(http.requests(read_caller(http, wrap(opts, "on_request", function(rec, extra)
		-- from the request's entry: its record's event is the handler's entry
		local e = rec.event
		if e and e.time and rec.latency then
			local trace, parent = caller(rec)
			span_of(rec, e.time, e.time + rec.latency, (rec.method or "HTTP") .. " "
				.. (rec.path or ""), "server", M.http(rec), extra, trace, parent)
		end
	end))))
end

-- Each HTTP client call a client span "METHOD" with otel.http_client's
-- attributes; one whose request carried a valid traceparent (an instrumented
-- client's) joins that trace.
function M.client(opts)
	local http = require "luprobe.http"
	return own(http.client(read_caller(http, wrap(opts, "on_call", function(rec, extra)
		local trace, parent = caller(rec)
		record_span(rec, rec.method or "HTTP", "client", M.http_client(rec), extra, trace,
			parent)
	end))))
end

-- Each gRPC call (server or client, unary or stream) a span
-- "package.Service/Method" of kind server or client with otel.grpc's attributes.
function M.grpc_calls(opts)
	local grpc = require "luprobe.grpc"
	return own(grpc.calls(wrap(opts, "on_call", function(rec, extra)
		local name = type(rec.method) == "string" and rec.method:gsub("^/", "") or "grpc"
		record_span(rec, name, rec.side == "server" and "server" or "client", M.grpc(rec),
			extra)
	end)))
end

-- Each database/sql query or statement a client span named after its
-- operation ("SELECT", else "db.query") with otel.sql's attributes.
function M.queries(opts)
	local sql = require "luprobe.sql"
	local o = wrap(opts, "on_query", function(rec, extra)
		local a = M.sql(rec)
		record_span(rec, a["db.operation.name"] or "db.query", "client", a, extra)
	end)
	return own(sql.queries(o))
end

return M
