-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.http: one record per HTTP request a net/http server handles, over
-- HTTP/1 or HTTP/2, with method, path, protocol, status and latency.
--
--   local http = require "luprobe.http"
--   http.requests(function(r)
--     printf("%s %s %s %s\n", r.method, r.path, r.status or "-", fmt.duration(r.latency or 0))
--   end)
--
-- http.requests{ on_request = fn, target = "./app", where = "...", within = p }
-- also works; `where` filters in the kernel on any field of req, e.g.
-- 'prefix(req.URL.Path, "/api/") and req.Host == "example.com"' (on
-- req.Method, req.URL.Path and req.Proto only, when the binary does not
-- describe http.Request: see below). It returns the probes it uses:
-- { serve = probe, status = probe, ... } (`within = requests.serve` scopes
-- other probes to the requests).
--
-- http.client(fn) or http.client{ on_call = fn, max_paths = N, ... }: one
-- record { method, scheme, host, path, url, status, err, latency, pid, goid,
-- event } per call of net/http's Client.Do (see M.client below).
-- max_paths = N (both sides): paths past the first N distinct ones are "(other)".
-- headers = { ... } (both sides): the request headers, as below (on the client,
-- the ones the request carried when Client.Do was called).
--
-- A record is { method, path, proto, status, latency, note, pid, goid, event },
-- and headers with headers = { "X-Request-Id", "traceparent", ... }: a table
-- keyed by each name in its canonical form ("Traceparent", as net/http keys
-- r.Header; M.header_name(name) gives it), the header's first value or nil.
-- They are looked up in req.Header in the kernel (a field path through a
-- map, req.Header["Traceparent"]); a request of more header fields than the
-- kernel scans (256) gives nil for each.
-- status is the one net/http answered with; it is nil when it is not known,
-- and then note says why: the handler panicked (net/http cuts the response
-- off), it hijacked the connection, or the response writer is not one whose
-- status this module sees. latency is nil for a handler that did not return.
--
-- How: net/http.serverHandler.ServeHTTP runs once per request, on the
-- goroutine that serves it, for both protocols (HTTP/2 reaches it through
-- initALPNRequest). Its entry gives the request, its return the latency. The
-- status is the first one set on the request's response writer: HTTP/1's
-- (*response).WriteHeader, and for HTTP/2 (*http2responseWriterState).writeHeader
-- (net/http/internal/http2 from Go 1.27), through which every HTTP/2 status
-- passes: an explicit WriteHeader, the implicit 200 of a first Write or Flush,
-- and the one written when the handler returns. Statuses are matched to
-- requests by writer, not goroutine, so a handler that lets another goroutine
-- write still gets its own status. A handler that returns without a status
-- gets 200 from net/http, as both protocols do. The end of a request whose
-- handler never returned is seen where net/http recovers: the HTTP/1
-- connection closes ((*conn).close), the HTTP/2 handler goroutine ends
-- (runHandler returns).
--
-- The request's fields are read at the offsets the binary gives: the
-- arguments are declared (serverHandler.ServeHTTP is a method of an
-- unexported type, which no signature source names), req as
-- *net/http.Request, a type the binary describes in its DWARF, its debug
-- file, its runtime type descriptors (which stripped binaries keep) or the std
-- table. Only when none of them describes it do the declared fallbacks serve:
-- Method, URL and Proto have been the first fields of http.Request, and
-- Scheme, Opaque, User, Host, Path the first of url.URL, in every Go release.
-- luprobe -v says which was used. The response writers' receivers are only
-- used as keys.
local M = {}

local REQUEST_PREFIX = "*struct{ Method string; URL *struct{ Scheme string; Opaque string; "
	.. "User uintptr; Host string; Path string }; Proto string; ProtoMajor int; ProtoMinor int; "
	.. "Header map[string][]string }"

-- The request headers one probe has room for (each takes 13 of its 96 operations).
local MAX_HEADERS = 6

-- A header's name as net/http keys r.Header (textproto.CanonicalMIMEHeaderKey):
-- the first letter and each one after a hyphen upper case, the rest lower; a
-- name with a byte that is not a token character is left as it is.
local function canonical(name)
	if name == "" or name:find("[^%w!#$%%&'*+%-.^_`|~]") then
		return name
	end
	return (name:lower():gsub("^%l", string.upper):gsub("%-%l", string.upper))
end
M.header_name = canonical

-- headers = { "X-Request-Id", "traceparent" }: the canonical names, and the
-- field paths that look them up in req.Header
local function header_paths(list, who)
	if list == nil then
		return nil, {}
	end
	if type(list) ~= "table" then
		error(who .. ": headers must be a list of header names", 3)
	end
	local names, paths, seen = {}, {}, {}
	for i, h in ipairs(list) do
		if type(h) ~= "string" or h == "" or h:find('[%c"\\]') then
			error(string.format("%s: headers[%d] must be a header name", who, i), 3)
		end
		local c = canonical(h)
		if not seen[c] then
			seen[c] = true
			names[#names + 1] = c
			paths[#paths + 1] = string.format('req.Header["%s"]', c)
		end
	end
	if #names > MAX_HEADERS then
		error(string.format("%s: at most %d headers", who, MAX_HEADERS), 3)
	end
	return names, paths
end

-- The record's headers: each name's first value, from the event's args (a
-- []string: nil when absent, or not read: a request of more header fields
-- than the kernel scans).
local function read_headers(a, names, paths)
	if not names then
		return nil
	end
	local t = {}
	for i, name in ipairs(names) do
		local v = a[paths[i]]
		t[name] = type(v) == "table" and type(v[1]) == "string" and v[1] or nil
	end
	return t
end

-- The HTTP/2 server inside net/http: the bundle of golang.org/x/net/http2
-- (Go 1.6 to 1.26), then net/http/internal/http2.
local H2 = {
	{ status = "net/http.(*http2responseWriterState).writeHeader",
	  handler = "net/http.(*http2serverConn).runHandler",
	  writer = "*net/http.http2responseWriter" },
	{ status = "net/http/internal/http2.(*responseWriterState).writeHeader",
	  handler = "net/http/internal/http2.(*serverConn).runHandler",
	  writer = "*net/http/internal/http2.responseWriter" },
}

local NOTE_PANIC = "the handler panicked or called runtime.Goexit: net/http cut the response off"
local NOTE_HIJACK = "the handler hijacked the connection"

local optional = require "luprobe.optional"

-- a field path's value: "?" when it could not be read (a nil URL)
local function str(v)
	return type(v) == "string" and v or "?"
end

local function minor(goversion)
	return tonumber(goversion and goversion:match("^go1%.(%d+)"))
end

-- Does WriteHeader(code) leave the status to a later call? Informational 1xx
-- statuses do since Go 1.19 (before, they were the final status); HTTP/1 has
-- made 101 Switching Protocols final again since Go 1.21. nil: not known.
local function interim(code, h2, goversion)
	if code < 100 or code > 199 then
		return false
	end
	local v = minor(goversion)
	if not v then
		return nil
	end
	if v < 19 then
		return false
	end
	return h2 or code ~= 101 or v < 21
end

-- A bound on the distinct paths records carry (max_paths = N): a server hit
-- with random paths must not make a script that keys by path grow without
-- end. Past N, a new path is given as "(other)" (no path starts so), counted,
-- and said at exit.
local OTHER = "(other)"

local function path_cap(max, what)
	if max == nil then
		return function(path)
			return path
		end
	end
	if math.type(max) ~= "integer" or max < 1 then
		error("luprobe.http: max_paths must be a positive integer", 3)
	end
	local seen, n, over = {}, 0, 0
	on_exit(function()
		if over > 0 then
			io.stderr:write(string.format("luprobe.http: %d %s had a path beyond the first %d "
				.. "distinct ones (max_paths) and were given as \"(other)\"\n", over, what, max))
		end
	end)
	return function(path)
		if seen[path] then
			return path
		end
		if n < max then
			seen[path], n = true, n + 1
			return path
		end
		over = over + 1
		return OTHER
	end
end

local message = require("luprobe.fmt").errmsg

function M.requests(opts)
	if type(opts) == "function" then
		opts = { on_request = opts }
	end
	local on_request = opts.on_request or error("luprobe.http.requests: on_request is required", 2)
	local headers, header_args = header_paths(opts.headers, "luprobe.http.requests")
	local cap = path_cap(opts.max_paths, "requests")
	-- requests in flight, by the goroutine serving them ("pid:goid") and by
	-- their response writer ("pid:address": HTTP/1's *response, HTTP/2's
	-- responseWriterState)
	local serving, writing = {}, {}
	-- HTTP/2 handler goroutines and their response writer state, from the
	-- entry of runHandler, which then calls ServeHTTP on the same goroutine
	local h2state = {}

	local function done(k, r, status, note, latency, e)
		serving[k] = nil
		if r.wkey then
			writing[r.wkey] = nil
		end
		on_request{
			headers = r.headers,
			method = r.method,
			path = cap(r.path),
			proto = r.proto,
			status = status,
			latency = latency,
			note = note,
			pid = r.pid,
			goid = r.goid,
			event = e,
		}
	end

	-- the first status set on a writer counts: net/http ignores later ones
	-- ("superfluous WriteHeader") and panics on codes outside 100-999
	local function set_status(e, w, code, h2)
		local r = writing[e.pid .. ":" .. w]
		if not r or r.status or r.unsure or r.hijacked or r.h2 ~= h2 then
			return
		end
		if code < 100 or code > 999 then
			return
		end
		local i = interim(code, h2, e.goversion)
		if i == nil then
			r.unsure = code
		elseif not i then
			r.status = code
		end
	end

	local write = probe{
		func = "net/http.(*response).WriteHeader",
		target = opts.target,
		args = { { "w", "uintptr" }, { "code", "int" } },
	}
	write:on_event(function(e)
		set_status(e, e.args.w, e.args.code, false)
	end)

	-- Hijack flushes a status already set; after it the handler writes its own
	local hijack = optional{
		func = "net/http.(*response).Hijack",
		target = opts.target,
		args = { { "w", "uintptr" } },
		ret = { { "rwc", "error" }, { "buf", "uintptr" }, { "err", "error" } },
	}
	if hijack then
		hijack:on_event(function(e)
			local r = writing[e.pid .. ":" .. e.args.w]
			if r and e.ret.err == nil then
				r.hijacked = true
			end
		end)
	end

	local h2status, h2handler
	for _, names in ipairs(H2) do
		h2status = optional{
			func = names.status,
			target = opts.target,
			args = { { "rws", "uintptr" }, { "code", "int" } },
		}
		if h2status then
			h2handler = probe{
				func = names.handler,
				target = opts.target,
				mode = "separate",
				ret = {},
				-- the writer's state pointer, as an address (deref = 0)
				args = { { "sc", "uintptr" }, { "rw", names.writer, "*struct{ rws uintptr }" },
					"rw.rws" },
				deref = 0,
			}
			break
		end
	end
	if h2status then
		h2status:on_event(function(e)
			set_status(e, e.args.rws, e.args.code, true)
		end)
		h2handler:on_event(function(e)
			local k = e.pid .. ":" .. e.goid
			if e.kind == "entry" then
				h2state[k] = e.args["rw.rws"]
				return
			end
			h2state[k] = nil
			local r = serving[k]
			if r then
				done(k, r, nil, NOTE_PANIC, nil, r.event)
			end
		end)
	end

	-- an HTTP/1 connection ends on its goroutine: after a panic, with the
	-- request still unanswered
	local close = probe{ func = "net/http.(*conn).close", target = opts.target, args = false }
	close:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local r = serving[k]
		if r then
			done(k, r, nil, NOTE_PANIC, nil, r.event)
		end
	end)

	local args = { { "sh", "uintptr" }, { "rw", "error" },
		{ "req", "*net/http.Request", REQUEST_PREFIX },
		"rw", "req.Method", "req.URL.Path", "req.Proto" }
	for _, a in ipairs(header_args) do
		args[#args + 1] = a
	end
	local serve = probe{
		func = "net/http.serverHandler.ServeHTTP",
		target = opts.target,
		mode = "separate",
		args = args,
		ret = {},
		strcap = opts.strcap or 128,
		-- a header's first value is what the record gives: one element of its []string
		elems = headers and 1 or nil,
		where = opts.where,
		within = opts.within,
	}
	serve:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		if e.kind == "entry" then
			local a, rw = e.args, e.args.rw
			local r = {
				method = str(a["req.Method"]),
				path = str(a["req.URL.Path"]),
				proto = str(a["req.Proto"]),
				pid = e.pid,
				goid = e.goid,
				event = e,
				h2 = false,
			}
			r.headers = read_headers(a, headers, header_args)
			local w
			if rw and rw.type == "*http.response" then
				w = rw.value
			elseif h2state[k] then
				r.h2, w = true, h2state[k]
			else
				r.foreign = rw and rw.type or "?"
			end
			if w then
				r.wkey = e.pid .. ":" .. w
				writing[r.wkey] = r
			end
			serving[k] = r
			return
		end
		local r = serving[k]
		if not r then
			return -- it began before tracing did
		end
		local status, note = r.status, nil
		if r.foreign then
			note = "status not seen: the response writer is " .. r.foreign
				.. ", not net/http's HTTP/1 or HTTP/2 one"
		elseif r.hijacked then
			note = NOTE_HIJACK -- a status set before is the one net/http sent
		elseif r.unsure then
			note = string.format("status not known: informational status %d set and the Go "
				.. "release of the binary is not known", r.unsure)
		elseif not status then
			status = 200 -- what net/http answers for a handler that set none
		end
		done(k, r, status, note, e.latency, e)
	end)
	return { serve = serve, status = write, h2status = h2status, h2handler = h2handler,
		hijack = hijack, close = close }
end

-- net/http.(*Client).do runs once per Client.Do (and Get, Post, Head, which
-- call it), redirects included: its latency is the whole call's, its result
-- the final response. (*Client).Do itself is a one-line wrapper the compiler
-- inlines into its callers, so it has no call of its own to probe.
-- Status and StatusCode have been the first fields of http.Response in every release
local RESPONSE_PREFIX = "*struct{ Status string; StatusCode int }"

function M.client(opts)
	if type(opts) == "function" then
		opts = { on_call = opts }
	end
	local on_call = opts.on_call or error("luprobe.http.client: on_call is required", 2)
	local cap = path_cap(opts.max_paths, "client calls")
	local headers, header_args = header_paths(opts.headers, "luprobe.http.client")
	local args = { { "c", "uintptr" }, { "req", "*net/http.Request", REQUEST_PREFIX },
		"req.Method", "req.URL.Scheme", "req.URL.Host", "req.URL.Path" }
	for _, a in ipairs(header_args) do
		args[#args + 1] = a
	end
	local call = probe{
		func = "net/http.(*Client).do",
		target = opts.target,
		args = args,
		ret = { { "resp", "*net/http.Response", RESPONSE_PREFIX }, { "err", "error" } },
		strcap = opts.strcap or 128,
		elems = headers and 1 or nil,
		where = opts.where,
		within = opts.within,
	}
	call:on_event(function(e)
		local a, resp = e.args, e.ret.resp
		local scheme, host, path = str(a["req.URL.Scheme"]), str(a["req.URL.Host"]),
			str(a["req.URL.Path"])
		local status = type(resp) == "table" and resp.StatusCode or nil
		path = cap(path)
		on_call{
			method = str(a["req.Method"]),
			scheme = scheme,
			host = host,
			path = path,
			url = scheme .. "://" .. host .. (path == OTHER and "/" .. OTHER or path),
			status = math.type(status) == "integer" and status or nil,
			err = message(e.err),
			headers = read_headers(a, headers, header_args),
			latency = e.latency,
			pid = e.pid,
			goid = e.goid,
			event = e,
		}
	end)
	return { call = call }
end

return M
