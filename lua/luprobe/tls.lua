-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.tls: the plaintext a Go program sends and receives over crypto/tls,
-- per connection and direction, with HTTP/1 messages decoded.
--
--   local tls = require "luprobe.tls"
--   tls.data(function(d)
--     printf("%s %s %s %q\n", d.dir, d["local"], d.remote, d.data)
--   end)
--
-- tls.data{ on_data = fn, on_http = fn, cap = 256, body = 4096, target = "./app" }
-- also works; it returns the probes it uses: { read = probe, write = probe,
-- close = probe }.
--
-- on_data gets one record per (*tls.Conn).Read or Write call that moved
-- bytes: { dir = "read" or "write", data, len, truncated, conn, local, remote,
-- pid, goid, latency, err, h2, alpn, event }. data is the plaintext the call read
-- or wrote (b[:n], read in the kernel when the call returns), at most `cap`
-- bytes (default 256, at most 3,000); len is n, the bytes the call moved,
-- and truncated says data is shorter. conn identifies the connection (the
-- *tls.Conn's address, with pid); local and remote are "ip:port" of its TCP
-- connection (from c.conn's *net.TCPConn, its netFD's laddr and raddr), nil
-- when the connection is not TCP (a unix socket, a net.Pipe, a wrapper).
-- alpn is the protocol the handshake negotiated ("h2", "http/1.1"), nil
-- for none; h2 is true when it is "h2" or the connection began with the
-- HTTP/2 preface.
--
-- on_http gets one record per HTTP/1 message seen in a connection's stream,
-- in one direction (a server reads requests and writes responses, a client
-- the other way round): { kind = "request" or "response", method, target,
-- proto, status, reason, headers, body, body_len, truncated, chunked, conn,
-- local, remote, dir, pid, goid }. The stream is reassembled across calls
-- (net/http reads a request's first byte on its own), the header names of
-- headers are lower case, and body holds at most `body` bytes of a body
-- whose length Content-Length gives (body_len; none in a response to HEAD,
-- a 1xx, 204 or 304 one); a chunked body is not
-- decoded (chunked = true, body nil), nor is one that lasts until the
-- connection closes. Bytes the capture missed (`cap` reached) end the
-- message (truncated = true) and decoding resumes at the next call that
-- starts a message. HTTP/2 is not decoded: its frames (binary, HPACK
-- compressed headers) are in on_data's records, left to the script.
--
-- How: the probes are on crypto/tls.(*Conn).Read and Write with ret, so an
-- event comes when the call returns; args = { "b[:n]" } copies the
-- plaintext then. (*Conn).Close ends a connection's state. The functions are
-- exported, so the std table types them on stripped binaries; the results
-- are declared (the source leaves them unnamed).
local M = {}

local NET = "c.conn.(*net.TCPConn).fd."
local ARGS = { "c", "b[:n]", NET .. "laddr.(*net.TCPAddr).IP", NET .. "laddr.(*net.TCPAddr).Port",
	NET .. "raddr.(*net.TCPAddr).IP", NET .. "raddr.(*net.TCPAddr).Port", "c.clientProtocol" }
local RET = { { "n", "int" }, { "err", "error" } }
local MAX_CAP = 3000 -- a plan's record holds 4 KiB: the addresses and results need the rest
local MAX_HEADER = 16384 -- bytes of a message's start line and headers kept while incomplete
local PREFACE = "PRI * HTTP/2.0\r\n"

local addr = require("luprobe.fmt").addr

-- The start line and headers of an HTTP/1 message, if buf holds them all:
-- the message (without body), and the bytes after the headers.
local function parse_head(buf)
	local hend = buf:find("\r\n\r\n", 1, true)
	if not hend then
		return nil
	end
	local head, rest = buf:sub(1, hend + 1), buf:sub(hend + 4)
	local line = head:match("^([^\r\n]*)\r\n")
	local m = { headers = {} }
	local method, target, proto = line:match("^(%u[%u%-]*) (%S+) (HTTP/%d%.%d)$")
	if method then
		m.kind, m.method, m.target, m.proto = "request", method, target, proto
	else
		local p, code, reason = line:match("^(HTTP/%d%.%d) (%d%d%d) ?(.*)$")
		if not p then
			return false
		end
		m.kind, m.proto, m.status, m.reason = "response", p, tonumber(code), reason
	end
	for name, value in head:gmatch("\r\n([^:\r\n]+):[ \t]*([^\r\n]*)") do
		m.headers[name:lower()] = value
	end
	return m, rest
end

-- Could buf be the start of an HTTP/1 message (a request or status line)?
local function starts_message(buf)
	local word = buf:match("^(%u[%u%-]*)")
	return word ~= nil and (#word == #buf or buf:sub(#word + 1, #word + 1) == " "
		or (word == "HTTP" and buf:sub(5, 5) == "/"))
end

-- The bytes of chunk, in order, into the message being read.
local function decode(st, chunk, emit, body_max, heads)
	while #chunk > 0 do
		local m = st.msg
		if m then
			local take = math.min(#chunk, st.need)
			if #m.body < body_max then
				m.body = m.body .. chunk:sub(1, math.min(take, body_max - #m.body))
				m.truncated = #m.body < m.body_len and #m.body == body_max or nil
			end
			st.need = st.need - take
			chunk = chunk:sub(take + 1)
			if st.need == 0 then
				st.msg = nil
				emit(m)
			end
		else
			st.buf = st.buf .. chunk
			chunk = ""
			local head, rest = parse_head(st.buf)
			if head == false or (head == nil and #st.buf > MAX_HEADER) then
				st.buf, st.sync = "", false -- not HTTP/1, or lost: wait for a message start
				return
			end
			if not head then
				return
			end
			st.buf = ""
			local te = head.headers["transfer-encoding"]
			local cl = tonumber(head.headers["content-length"])
			local bodiless = false
			if head.kind == "request" then
				heads[#heads + 1] = head.method == "HEAD"
			elseif head.status < 200 then
				bodiless = true -- informational: the final response follows
			else
				bodiless = table.remove(heads, 1) or head.status == 204 or head.status == 304
			end
			if te and te:lower():find("chunked", 1, true) then
				head.chunked = true
				emit(head)
				st.sync = false -- its end is not known: wait for the next message
				return
			elseif bodiless or (cl or 0) == 0 and (head.kind == "request" or cl == 0) then
				head.body, head.body_len = "", 0
				emit(head)
			elseif cl then
				head.body, head.body_len = "", cl
				st.msg, st.need = head, cl
			else
				emit(head) -- a response whose body lasts until the connection closes
				st.sync = false
				return
			end
			chunk = rest
		end
	end
end

-- The HTTP/1 decoder of one direction of one connection; heads lists the
-- connection's requests that were HEAD (true) or not, in order, whose
-- responses have not been seen: a response to HEAD has no body whatever
-- its Content-Length says.
local function feed(st, chunk, missed, emit, body_max, heads)
	if st.sync == false then
		if not starts_message(chunk) then
			return
		end
		st.sync = true
	end
	decode(st, chunk, emit, body_max, heads)
	if missed > 0 then
		-- bytes the capture did not hold: the message they belong to ends here
		if st.msg then
			st.msg.truncated = true
			emit(st.msg)
		end
		st.msg, st.buf, st.sync = nil, "", false
	end
end

function M.data(opts)
	if type(opts) == "function" then
		opts = { on_data = opts }
	end
	opts = opts or {}
	local cap = math.min(tonumber(opts.cap) or 256, MAX_CAP)
	local body_max = tonumber(opts.body) or 4096
	local on_data, on_http = opts.on_data, opts.on_http
	local conns = {} -- pid:conn -> { h2, read = decoder state, write = decoder state }

	local function conn_state(key)
		local c = conns[key]
		if not c then
			c = { read = { buf = "", sync = false }, write = { buf = "", sync = false }, heads = {} }
			conns[key] = c
		end
		return c
	end

	local function handler(dir)
		return function(e)
			local a, n = e.args, e.ret.n
			if math.type(n) ~= "integer" or n <= 0 then
				return
			end
			local data = a["b[:n]"]
			if type(data) ~= "string" then
				data = ""
			end
			local key = e.pid .. ":" .. tostring(a.c)
			local c = conn_state(key)
			local alpn = a["c.clientProtocol"]
			if not c.h2 and (alpn == "h2" or data:sub(1, #PREFACE) == PREFACE) then
				c.h2 = true
			end
			local d = {
				dir = dir,
				data = data,
				len = n,
				truncated = #data < n,
				conn = key,
				["local"] = addr(a[NET .. "laddr.(*net.TCPAddr).IP"], a[NET .. "laddr.(*net.TCPAddr).Port"]),
				remote = addr(a[NET .. "raddr.(*net.TCPAddr).IP"], a[NET .. "raddr.(*net.TCPAddr).Port"]),
				pid = e.pid,
				goid = e.goid,
				latency = e.latency,
				err = e.err,
				h2 = c.h2 or false,
				alpn = type(alpn) == "string" and alpn ~= "" and alpn or nil,
				event = e,
			}
			if on_data then
				on_data(d)
			end
			if on_http and not c.h2 then
				feed(c[dir], data, n - #data, function(m)
					m.conn, m["local"], m.remote = key, d["local"], d.remote
					m.dir, m.pid, m.goid = dir, e.pid, e.goid
					on_http(m)
				end, body_max, c.heads)
			end
		end
	end

	local read = probe{ func = "crypto/tls.(*Conn).Read", target = opts.target, args = ARGS,
		ret = RET, strcap = cap, deref = 0 }
	local write = probe{ func = "crypto/tls.(*Conn).Write", target = opts.target, args = ARGS,
		ret = RET, strcap = cap, deref = 0 }
	read:on_event(handler("read"))
	write:on_event(handler("write"))
	local close = probe{ func = "crypto/tls.(*Conn).Close", target = opts.target, args = { "c" },
		deref = 0 }
	close:on_event(function(e)
		conns[e.pid .. ":" .. tostring(e.args.c)] = nil
	end)
	return { read = read, write = write, close = close }
end

return M
