-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.agg: aggregations (count, sum, min, max, avg, log2 and linear
-- histograms) keyed by any Lua value, printed as bpftrace prints its maps.
--
--   local agg = require "luprobe.agg"
--   local by_path = agg.count("requests by path")
--   local lat = agg.hist{ title = "latency", unit = "ns" }
--   p:on_event(function(e) by_path:add(e.args.path) lat:add(e.latency) end)
--
-- count:add([key]); the others: add(value [, key]). An unreadable value is
-- not counted. Probes can keep the same aggregations in the kernel, with no
-- event per call: p:count(), p:hist("latency"), ... (see docs/lua-api.md);
-- they return objects with the same methods, except add.
--
-- Aggregations that the script did not print are printed when the run ends
-- (as JSON with --json).
local fmt = require "luprobe.fmt"

local M = {}
local Agg = {}
Agg.__index = Agg

local NOKEY = setmetatable({}, { __tostring = function() return "" end })
M.NOKEY = NOKEY

local all = {}
local BAR = 52

local function new(kind, opts)
	if type(opts) == "string" then
		opts = { title = opts }
	end
	opts = opts or {}
	local a = setmetatable({
		kind = kind,
		title = opts.title,
		unit = opts.unit,
		groups = {},
		min = opts.min,
		max = opts.max,
		step = opts.step,
		reader = opts.reader,
	}, Agg)
	all[#all + 1] = a
	return a
end

--- Count of events, by key.
function M.count(opts) return new("count", opts) end
--- Sum of values, by key.
function M.sum(opts) return new("sum", opts) end
--- Smallest value, by key.
function M.min(opts) return new("min", opts) end
--- Largest value, by key.
function M.max(opts) return new("max", opts) end
--- Average of values, by key.
function M.avg(opts) return new("avg", opts) end
--- Power-of-two histogram of values, by key ({ unit = "ns" } labels buckets as durations).
function M.hist(opts) return new("hist", opts) end

--- Linear histogram of values from min to max in steps, by key.
function M.lhist(min, max, step, opts)
	if type(min) ~= "number" or type(max) ~= "number" or type(step) ~= "number" or step <= 0 or max <= min then
		error("lhist(min, max, step): numbers with min < max and step > 0", 2)
	end
	if type(opts) == "string" then
		opts = { title = opts }
	end
	opts = opts or {}
	opts.min, opts.max, opts.step = min, max, step
	return new("lhist", opts)
end

--- An aggregation the kernel keeps (used by probe methods).
function M.kernel(kind, opts)
	return new(kind, opts)
end

-- bucket 0: negative, 1: zero, 2+k: [2^k, 2^(k+1)), as the kernel counts them
local function log2_bucket(v)
	v = math.floor(v)
	if v < 0 then
		return 0
	elseif v == 0 then
		return 1
	end
	local b = 0
	while v > 1 do
		v = v >> 1
		b = b + 1
	end
	return 2 + b
end

local function lhist_count(a)
	return (a.max - a.min) // a.step
end

local function lhist_bucket(a, v)
	if v < a.min then
		return 0
	end
	local i = (v - a.min) // a.step
	if i >= lhist_count(a) then
		return lhist_count(a) + 1
	end
	return 1 + i
end

--- Add an event: count:add([key]), others:add(value [, key]).
function Agg:add(a, b)
	if self.reader then
		error("this aggregation is kept in the kernel: its probe feeds it", 2)
	end
	local key, value
	if self.kind == "count" then
		key, value = a, 1
	else
		value, key = a, b
		if value == nil or value == luprobe.unreadable then
			return
		end
		if type(value) ~= "number" then
			error(self.kind .. ":add(value [, key]): value must be a number, got " .. type(value), 2)
		end
	end
	if key == nil then
		key = NOKEY
	end
	local g = self.groups[key]
	if not g then
		g = { count = 0, sum = 0, min = value, max = value }
		self.groups[key] = g
	end
	g.count = g.count + 1
	g.sum = g.sum + value
	if value < g.min then g.min = value end
	if value > g.max then g.max = value end
	if self.kind == "hist" or self.kind == "lhist" then
		local bk = self.kind == "hist" and log2_bucket(value) or lhist_bucket(self, value)
		g.buckets = g.buckets or {}
		g.buckets[bk] = (g.buckets[bk] or 0) + 1
	end
end

-- Fold the kernel's entries (one per key and bucket) into groups.
local function refresh(self)
	if not self.reader then
		return
	end
	local groups = {}
	for _, e in ipairs(self.reader()) do
		local key = e.key
		if key == nil then
			key = NOKEY
		end
		local g = groups[key]
		if not g then
			g = { count = 0, sum = 0, min = e.min, max = e.max }
			groups[key] = g
		end
		g.count = g.count + e.count
		g.sum = g.sum + e.sum
		if e.min < g.min then g.min = e.min end
		if e.max > g.max then g.max = e.max end
		if self.kind == "hist" or self.kind == "lhist" then
			g.buckets = g.buckets or {}
			g.buckets[e.bucket] = (g.buckets[e.bucket] or 0) + e.count
		end
	end
	self.groups = groups
end

local function scalar(self, g)
	if self.kind == "count" then
		return g.count
	elseif self.kind == "sum" then
		return g.sum
	elseif self.kind == "min" then
		return g.min
	elseif self.kind == "max" then
		return g.max
	elseif self.kind == "avg" then
		return g.sum / g.count
	end
	return g.count
end

--- The groups: { [key] = { count, sum, min, max, buckets } } (unkeyed: agg.NOKEY).
function Agg:data()
	refresh(self)
	return self.groups
end

--- The value of one key (the count, sum, min, max or average; for histograms the count).
function Agg:get(key)
	refresh(self)
	local g = self.groups[key == nil and NOKEY or key]
	return g and scalar(self, g) or nil
end

--- Groups as a list sorted by value, then key: { { key = k, value = v, group = g }, ... }.
function Agg:items()
	refresh(self)
	local list = {}
	for k, g in pairs(self.groups) do
		list[#list + 1] = { key = k ~= NOKEY and k or nil, value = scalar(self, g), group = g }
	end
	table.sort(list, function(x, y)
		if x.value ~= y.value then
			return x.value < y.value
		end
		return tostring(x.key) < tostring(y.key)
	end)
	return list
end

--- Forget everything counted so far.
function Agg:clear()
	if self.reader then
		self.reader("clear")
	end
	self.groups = {}
end

local suffixes = { "", "K", "M", "G", "T", "P", "E" }

local function num_label(v)
	local i = 1
	while v >= 1024 and v % 1024 == 0 and i < #suffixes do
		v = v // 1024
		i = i + 1
	end
	return string.format("%d%s", v, suffixes[i])
end

local function label(self, v)
	if self.unit == "ns" then
		return fmt.duration(v)
	end
	return num_label(v)
end

-- [lo, hi) of a bucket; nil for an open end
local function bounds(self, b)
	if self.kind == "hist" then
		if b == 0 then
			return nil, 0
		elseif b == 1 then
			return 0, 1
		end
		return 1 << (b - 2), 1 << (b - 1)
	end
	local n = lhist_count(self)
	if b == 0 then
		return nil, self.min
	elseif b > n then
		return self.min + n * self.step, nil
	end
	return self.min + (b - 1) * self.step, self.min + b * self.step
end

local function bucket_label(self, b)
	local lo, hi = bounds(self, b)
	if lo == nil then
		return "(..., " .. label(self, hi) .. ")"
	elseif hi == nil then
		return "[" .. label(self, lo) .. ", ...)"
	elseif self.kind == "hist" and hi - lo == 1 then
		return "[" .. label(self, lo) .. "]"
	end
	return "[" .. label(self, lo) .. ", " .. label(self, hi) .. ")"
end

local function print_hist(self, g, out)
	local first, last, top = math.huge, -1, 0
	for b, n in pairs(g.buckets or {}) do
		if b < first then first = b end
		if b > last then last = b end
		if n > top then top = n end
	end
	for b = first, last do
		local n = g.buckets[b] or 0
		local width = top > 0 and math.floor(n * BAR / top + 0.5) or 0
		local lab = bucket_label(self, b)
		-- pad by characters, not bytes: labels may hold "µ"
		lab = lab .. string.rep(" ", math.max(0, 20 - (utf8.len(lab) or #lab)))
		out[#out + 1] = string.format("%s %8d |%s%s|", lab, n, string.rep("@", width),
			string.rep(" ", BAR - width))
	end
end

local function key_text(k)
	if type(k) == "string" then
		return k
	end
	return fmt.value(k)
end

local function value_text(self, v)
	if self.unit == "ns" and self.kind ~= "count" then
		return fmt.duration(v)
	end
	if math.type(v) == "float" then
		return string.format("%.1f", v)
	end
	return string.format("%d", v)
end

--- The aggregation as text lines (what print writes).
function Agg:lines(title)
	refresh(self)
	title = title or self.title or self.kind
	local out = {}
	local items = self:items()
	if #items == 0 then
		return { title .. ": no data" }
	end
	if self.kind == "hist" or self.kind == "lhist" then
		for _, it in ipairs(items) do
			out[#out + 1] = it.key == nil and (title .. ":") or string.format("%s [%s]:", title, key_text(it.key))
			print_hist(self, it.group, out)
			out[#out + 1] = ""
		end
		return out
	end
	if #items == 1 and items[1].key == nil then
		out[1] = string.format("%s: %s", title, value_text(self, items[1].value))
		return out
	end
	out[1] = title .. ":"
	for _, it in ipairs(items) do
		out[#out + 1] = string.format("  %-30s %12s", key_text(it.key), value_text(self, it.value))
	end
	return out
end

--- The aggregation as one JSON object.
function M.json_of(self, title)
	local json = require "luprobe.json"
	local groups = {}
	for _, it in ipairs(self:items()) do
		local g = { key = it.key, count = it.group.count, sum = it.group.sum, min = it.group.min, max = it.group.max }
		if self.kind == "hist" or self.kind == "lhist" then
			local bs = {}
			local keys = {}
			for b in pairs(it.group.buckets or {}) do
				keys[#keys + 1] = b
			end
			table.sort(keys)
			for _, b in ipairs(keys) do
				local lo, hi = bounds(self, b)
				bs[#bs + 1] = { min = lo, max = hi, count = it.group.buckets[b] }
			end
			g.buckets = bs
		else
			g.value = it.value
		end
		groups[#groups + 1] = g
	end
	return json.encode({ aggregation = title or self.title or self.kind, kind = self.kind, groups = groups })
end

function Agg:json(title)
	return M.json_of(self, title)
end

--- Print the aggregation (text, or one JSON line with --json).
function Agg:print(title)
	self.printed = true
	if luprobe.json_output then
		io.write(self:json(title), "\n")
		return
	end
	io.write(table.concat(self:lines(title), "\n"), "\n")
end

Agg.__tostring = function(self)
	return table.concat(self:lines(), "\n")
end

-- Called by luprobe after the on_exit handlers: print what nobody printed.
function M._at_exit()
	for _, a in ipairs(all) do
		if not a.printed and next(a:data()) ~= nil then
			a:print()
		end
	end
end

return M
