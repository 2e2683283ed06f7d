-- SPDX-License-Identifier: BSD-2-Clause
-- @description Plaintext of a Go program's TLS connections (crypto/tls), both directions, HTTP/1 decoded
-- @arg cap   bytes of plaintext captured per Read or Write call (default 256)
-- @arg http  "1": print only the HTTP/1 messages (start line, body), not every call
--
--   sudo luprobe scripts/tls-plaintext.lua -p $(pidof server)
--   sudo luprobe scripts/tls-plaintext.lua -a http=1 -- ./client https://example.test/
--
-- One line per Read or Write that moved bytes: the direction, the
-- connection's local and remote addresses, the byte count and the
-- plaintext (quoted, cut at `cap`). HTTP/2 connections are shown as their
-- frames' bytes: luprobe.tls does not decode HTTP/2 (see lua/luprobe/tls.lua).
local tls = require "luprobe.tls"

local http_only = luprobe.args.http == "1"

local ESC = { ["\r"] = "\\r", ["\n"] = "\\n", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\" }

-- bytes as a Go-like quoted string: printable ASCII as is, the rest escaped
local function quote(s)
	return '"' .. s:gsub('[%c"\\\128-\255]', function(ch)
		return ESC[ch] or string.format("\\x%02x", ch:byte())
	end) .. '"'
end

local function where(r)
	return string.format("%s %s %s", r["local"] or "?", r.dir == "read" and "<-" or "->",
		r.remote or "?")
end

tls.data{
	cap = tonumber(luprobe.args.cap) or 256,
	on_data = not http_only and function(d)
		printf("%s %-5s %5d%s %s\n", where(d), d.dir, d.len, d.truncated and "+" or " ", quote(d.data))
	end or nil,
	on_http = function(m)
		local line = m.kind == "request" and string.format("%s %s %s", m.method, m.target, m.proto)
			or string.format("%s %d %s", m.proto, m.status, m.reason)
		local body = m.chunked and "(chunked)" or m.body and quote(m.body) or "(until close)"
		printf("%s http  %s  body %s%s\n", where(m), line, body, m.truncated and " (truncated)" or "")
	end,
}
