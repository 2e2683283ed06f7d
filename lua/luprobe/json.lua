-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.json: encode Lua values (as luprobe decodes Go values) to JSON.
--
--   local json = require "luprobe.json"
--   print(json.encode(e.args))         --> {"iterations":150}
--
-- Tables that are sequences become arrays, other tables objects with their
-- keys sorted (so output is deterministic); luprobe.unreadable,
-- luprobe.notcaptured and nil become null; numbers that are not finite become
-- null; bytes that are not UTF-8 become U+FFFD, so the output is valid JSON
-- whatever the strings hold.
local M = {}

local escapes = {
	['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
	['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

-- JSON text must be UTF-8: a byte that does not start a valid UTF-8 character
-- (a string cut inside one by strcap, or bytes that are not text) becomes
-- U+FFFD, one per byte, as luprobe's event JSON writes it.
local function quote(s)
	if not s:find('[%c"\\\128-\255]') then
		return '"' .. s .. '"'
	end
	local out, i, n = {}, 1, #s
	while i <= n do
		local j = s:find('[%c"\\\128-\255]', i)
		if not j then
			out[#out + 1] = s:sub(i)
			break
		end
		out[#out + 1] = s:sub(i, j - 1)
		local c = s:byte(j)
		if c < 0x80 then
			out[#out + 1] = escapes[string.char(c)] or string.format("\\u%04x", c)
			i = j + 1
		elseif utf8.len(s, j, j) then
			-- a whole, valid character (strict: no overlong form, surrogate or past U+10FFFF)
			local len = c >= 0xf0 and 4 or c >= 0xe0 and 3 or 2
			out[#out + 1] = s:sub(j, j + len - 1)
			i = j + len
		else
			out[#out + 1] = "\\ufffd"
			i = j + 1
		end
	end
	return '"' .. table.concat(out) .. '"'
end

--- Whether t is a sequence (keys 1..n and nothing else): an array, not an object.
function M.is_sequence(t)
	local n = 0
	for k in pairs(t) do
		if math.type(k) ~= "integer" or k < 1 then
			return false
		end
		n = n + 1
	end
	return n == #t
end

local encode

local function encode_table(t, seen)
	if seen[t] then
		error("luprobe.json: cannot encode a table that contains itself", 3)
	end
	seen[t] = true
	local out = {}
	if next(t) == nil then
		seen[t] = nil
		return "[]"
	end
	if M.is_sequence(t) then
		for i = 1, #t do
			out[i] = encode(t[i], seen)
		end
		seen[t] = nil
		return "[" .. table.concat(out, ",") .. "]"
	end
	local keys = {}
	for k in pairs(t) do
		keys[#keys + 1] = tostring(k)
	end
	table.sort(keys)
	for i, k in ipairs(keys) do
		local v = t[k]
		if v == nil then
			v = t[tonumber(k)]
		end
		out[i] = quote(k) .. ":" .. encode(v, seen)
	end
	seen[t] = nil
	return "{" .. table.concat(out, ",") .. "}"
end

function encode(v, seen)
	local ty = type(v)
	if v == nil or v == luprobe.unreadable or v == luprobe.notcaptured then
		return "null"
	elseif ty == "boolean" then
		return tostring(v)
	elseif ty == "number" then
		if math.type(v) == "integer" then
			return string.format("%d", v)
		elseif v ~= v or v == math.huge or v == -math.huge then
			return "null"
		end
		for prec = 14, 17 do
			local s = string.format("%." .. prec .. "g", v)
			if tonumber(s) == v then
				return s
			end
		end
	elseif ty == "string" then
		return quote(v)
	elseif ty == "table" then
		return encode_table(v, seen)
	end
	return quote(tostring(v))
end

--- Encode v as JSON text.
function M.encode(v)
	return encode(v, {})
end

return M
