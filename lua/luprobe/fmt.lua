-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.fmt: format durations, sizes, counts and Go values for humans.
--
--   local fmt = require "luprobe.fmt"
--   fmt.duration(12400)        --> "12.4µs"
--   fmt.size(1536)             --> "1.5KiB"
--   fmt.count(1234567)         --> "1,234,567"
--   fmt.number(2^64)           --> "1.8446744073709552e+19"
--   fmt.value({A = 1, B = "x"}) --> '{A:1, B:"x"}'
local M = {}
local is_sequence = require("luprobe.json").is_sequence

--- A duration in nanoseconds: "850ns", "12.4µs", "3.2ms", "1.50s", "2m03s".
function M.duration(ns)
	if ns == nil then
		return "?"
	end
	if ns < 1e3 then
		return string.format("%dns", math.floor(ns))
	elseif ns < 1e6 then
		return string.format("%.1fµs", ns / 1e3)
	elseif ns < 1e9 then
		return string.format("%.1fms", ns / 1e6)
	elseif ns < 60e9 then
		return string.format("%.2fs", ns / 1e9)
	end
	local s = math.floor(ns / 1e9)
	return string.format("%dm%02ds", s // 60, s % 60)
end

local units = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" }

--- A size in bytes, with binary units: "512B", "1.5KiB", "3.0GiB".
function M.size(bytes)
	local v, i = bytes, 1
	while v >= 1024 and i < #units do
		v = v / 1024
		i = i + 1
	end
	if i == 1 then
		return string.format("%d%s", math.floor(v), units[1])
	end
	return string.format("%.1f%s", v, units[i])
end

--- An integer with thousands separators: "1,234,567".
function M.count(n)
	local s = string.format("%d", math.floor(n))
	local sign, digits = s:match("^(-?)(%d+)$")
	digits = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
	return sign .. digits
end

--- A number as text that reads back as it: integers exactly, a float in the
--- fewest significant digits that give it back (a uint64 from 2^63 up, which
--- reaches Lua as a float, shows no more digits than it holds).
function M.number(v)
	if math.type(v) == "integer" then
		return string.format("%d", v)
	end
	for prec = 1, 17 do
		local t = string.format("%." .. prec .. "g", v)
		if tonumber(t) == v then
			return t
		end
	end
	return string.format("%.17g", v)
end

--- The text of a decoded error value (e.err, an `error` result): its message
--- when the decoder read one, else its dynamic type ("*url.Error"); nil for nil.
function M.errmsg(err)
	if err == nil then
		return nil
	end
	if type(err) == "table" and type(err.value) == "string" then
		return err.value
	end
	return type(err) == "table" and (err.type or "error") or tostring(err)
end

--- "ip:port" of a Go net.IP's bytes (4, or 16: an IPv4-mapped one shown as
--- IPv4, else "[a:b:...]") and a port; nil when either could not be read.
function M.addr(ip, port)
	if type(ip) ~= "string" or math.type(port) ~= "integer" then
		return nil
	end
	if #ip == 16 and ip:sub(1, 12) == "\0\0\0\0\0\0\0\0\0\0\255\255" then
		ip = ip:sub(13)
	end
	if #ip == 4 then
		return string.format("%d.%d.%d.%d:%d", ip:byte(1), ip:byte(2), ip:byte(3), ip:byte(4), port)
	end
	if #ip == 16 then
		local g = {}
		for i = 1, 16, 2 do
			g[#g + 1] = string.format("%x", ip:byte(i) * 256 + ip:byte(i + 1))
		end
		return "[" .. table.concat(g, ":") .. "]:" .. port
	end
	return nil
end

local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }

local function quote(s)
	return '"' .. s:gsub('[%c"\\]', function(c)
		return named[c] or string.format("\\x%02x", c:byte())
	end) .. '"'
end

--- A Lua value (as luprobe decodes Go values) written the way Go would:
--- strings quoted, structs as {A:1, B:"x"}, slices as [1, 2, 3], nil as nil.
function M.value(v, depth)
	depth = depth or 0
	local ty = type(v)
	if v == nil then
		return "nil"
	elseif v == luprobe.unreadable then
		return "?"
	elseif v == luprobe.notcaptured then
		return "..."
	elseif ty == "string" then
		return quote(v)
	elseif ty == "number" then
		if math.type(v) == "integer" then
			return string.format("%d", v)
		end
		return string.format("%.14g", v)
	elseif ty == "table" then
		if depth > 5 then
			return "{...}"
		end
		local parts = {}
		if is_sequence(v) then
			for i = 1, #v do
				parts[i] = M.value(v[i], depth + 1)
			end
			return "[" .. table.concat(parts, ", ") .. "]"
		end
		local keys = {}
		for k in pairs(v) do
			keys[#keys + 1] = k
		end
		table.sort(keys, function(a, b)
			return tostring(a) < tostring(b)
		end)
		for i, k in ipairs(keys) do
			parts[i] = tostring(k) .. ":" .. M.value(v[k], depth + 1)
		end
		return "{" .. table.concat(parts, ", ") .. "}"
	end
	return tostring(v)
end

return M
