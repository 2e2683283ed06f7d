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
-- Histograms print their count, average and percentile estimates (p50, p90,
-- p99: interpolated within the bucket that holds the rank, clamped to the
-- exact min and max). print{ top = N } prints the N largest keys,
-- print{ clear = true } starts over after printing. A key may be a stack
-- (e.stack, or "stack" in the kernel): printed a frame per line, most
-- frequent first.
--
-- Aggregations that counted something no print showed are printed when the
-- run ends (as JSON with --json); one that counted nothing says so.
local fmt = require "luprobe.fmt"

local M = {}
local Agg = {}
Agg.__index = Agg

local NOKEY = setmetatable({}, { __tostring = function() return "" end })
M.NOKEY = NOKEY

local all = {}
local titles = {} -- title -> aggregations that have it
local BAR = 52

-- Two aggregations never print under one title: the second is "title #2".
local function unique_title(t)
	local n = (titles[t] or 0) + 1
	titles[t] = n
	if n == 1 then
		return t
	end
	local u = t .. " #" .. n
	while titles[u] do
		n = n + 1
		u = t .. " #" .. n
	end
	titles[u] = 1
	return u
end

local function new(kind, opts)
	if type(opts) == "string" then
		opts = { title = opts }
	end
	opts = opts or {}
	local a = setmetatable({
		kind = kind,
		title = unique_title(opts.title or kind),
		unit = opts.unit,
		groups = {},
		min = opts.min,
		max = opts.max,
		step = opts.step,
		reader = opts.reader,
		-- what --metrics exports (luprobe.metrics): a name and help, and a
		-- probe's aggregation its function, value and key
		name = opts.name,
		help = opts.help,
		source = opts.source,
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

-- a // b for integers read as unsigned (b > 0), as Programming in Lua does it
local function udiv(a, b)
	if a >= 0 then
		return a // b
	end
	local q = ((a >> 1) // b) << 1
	if not math.ult(a - q * b, b) then
		q = q + 1
	end
	return q
end

-- Buckets between min and max: max - min may not fit in an integer (mininteger
-- to maxinteger), but it always fits in 64 bits read as unsigned.
local function span_buckets(min, max, step)
	if math.type(min) == "integer" and math.type(max) == "integer" and math.type(step) == "integer" then
		return udiv(max - min, step)
	end
	return (max - min) // step
end

--- Linear histogram of values from min to max in steps, by key.
function M.lhist(min, max, step, opts)
	-- (an unsigned count of 2^63 or more reads as negative)
	if type(min) ~= "number" or type(max) ~= "number" or type(step) ~= "number" or step <= 0 or max <= min
		or span_buckets(min, max, step) > 1000 or span_buckets(min, max, step) < 0 then
		error("lhist(min, max, step): numbers with min < max and step > 0, at most 1000 buckets", 2)
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

-- Every aggregation made so far, in order (luprobe.metrics exports them).
function M._all()
	return all
end

-- bucket 0: negative, 1: zero, 2+k: [2^k, 2^(k+1)), as the kernel counts them;
-- a uint64 from 2^63 up is a float here (bucket 65)
local function log2_bucket(v)
	v = math.floor(v)
	if v < 0 then
		return 0
	elseif v == 0 then
		return 1
	elseif math.type(v) == "float" then
		-- from 2^63 up: 2^k <= v < 2^(k+1) (bounded, for an infinity)
		local k, p = 63, 2.0 ^ 64
		while v >= p and k < 1023 do
			k, p = k + 1, p * 2
		end
		return 2 + k
	end
	local b = 0
	while v > 1 do
		v = v >> 1
		b = b + 1
	end
	return 2 + b
end

local function lhist_count(a)
	return span_buckets(a.min, a.max, a.step)
end

local function lhist_bucket(a, v)
	if v < a.min then
		return 0
	end
	local n = lhist_count(a)
	if math.type(v) == "integer" and math.type(a.min) == "integer" and math.type(a.step) == "integer" then
		-- v - min and the quotient are unsigned: they may not fit in an integer
		local i = udiv(v - a.min, a.step)
		return math.ult(i, n) and 1 + i or n + 1
	end
	local i = (v - a.min) // a.step
	return i < n and 1 + i or n + 1
end

-- Sums never wrap. Integers add up in 128 bits (two's complement words hi and
-- lo, as the kernel keeps them), floats apart; a sum reads as an integer when
-- it fits, else as the float nearest to the exact sum.
local exact = setmetatable({}, { __mode = "k" }) -- group -> { hi, lo, f }

-- x read as unsigned, to the nearest float (the low bit kept as a sticky bit)
local function u64_float(x)
	if x >= 0 then
		return x + 0.0
	end
	return ((x >> 1) | (x & 1)) * 2.0
end

local function i128_number(hi, lo)
	if (hi == 0 and lo >= 0) or (hi == -1 and lo < 0) then
		return lo
	end
	local neg = hi < 0
	if neg then
		lo = -lo
		hi = ~hi + (lo == 0 and 1 or 0)
	end
	local s, h = 0, hi
	while h ~= 0 do
		h, s = h >> 1, s + 1
	end
	-- the top 64 bits, with the bits shifted out of lo as a sticky bit
	local top = (hi << (64 - s)) | (lo >> s) | ((lo << (64 - s)) ~= 0 and 1 or 0)
	local f = u64_float(top) * 2.0 ^ s
	return neg and -f or f
end

-- Add to group g's sum: an integer, a float, or a kernel entry's 128-bit words.
local function sum_add(g, v, hi, lo)
	local x = exact[g]
	if not x then
		x = { hi = 0, lo = 0, f = 0.0 }
		exact[g] = x
	end
	if math.type(v) == "integer" or hi then
		hi, lo = hi or (v < 0 and -1 or 0), lo or v
		local l = x.lo + lo
		x.hi = x.hi + hi + (math.ult(l, x.lo) and 1 or 0)
		x.lo = l
	else
		x.f = x.f + v
	end
	local n = i128_number(x.hi, x.lo)
	g.sum = x.f ~= 0 and x.f + n or n
end

-- the total count, to know whether a print showed everything
local function total(groups)
	local n = 0
	for _, g in pairs(groups) do
		n = n + g.count
	end
	return n
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
		if value == nil or value == luprobe.unreadable or value == luprobe.notcaptured then
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
	sum_add(g, value)
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
		sum_add(g, e.sum, e.sum_hi, e.sum_lo)
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

-- A stack (e.stack, or a kernel key by stack): a list of frames { pc, func, file, line }
local function is_stack(k)
	return type(k) == "table" and type(k[1]) == "table" and k[1].pc ~= nil
end

-- Text of a key, for sorting ties: a stack's frames, else tostring
local function sort_text(k)
	if is_stack(k) then
		local t = {}
		for i, f in ipairs(k) do
			t[i] = (f.func or "?") .. ":" .. tostring(f.line or f.pc)
		end
		return table.concat(t, "\n")
	end
	return tostring(k)
end

--- Groups as a list sorted by value, then key: { { key = k, value = v, group = g }, ... }.
function Agg:items()
	refresh(self)
	local list = {}
	for k, g in pairs(self.groups) do
		list[#list + 1] = { key = k ~= NOKEY and k or nil, value = scalar(self, g), group = g,
			text = sort_text(k) }
	end
	table.sort(list, function(x, y)
		if x.value ~= y.value then
			return x.value < y.value
		end
		return x.text < y.text
	end)
	return list
end

--- Forget everything counted so far.
function Agg:clear()
	if self.reader then
		self.reader("clear")
	end
	self.groups = {}
	self.printed = 0
end

local suffixes = { "", "K", "M", "G", "T", "P", "E" }

-- Text of a number: integers exactly; a float beyond 2^53 (a uint64 from 2^63
-- up, a sum beyond 64 bits) as the shortest text that reads back as it.
local num_text = fmt.number

local function num_label(v)
	local i = 1
	while v >= 1024 and v % 1024 == 0 and i < #suffixes do
		v = v // 1024
		i = i + 1
	end
	if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
		v = math.tointeger(v)
	end
	return num_text(v) .. suffixes[i]
end

local function label(self, v)
	if self.unit == "ns" then
		return fmt.duration(v)
	end
	return num_label(v)
end

-- 2^k: an integer up to 2^62, a float from 2^63 (the top bucket of a uint64)
local function pow2(k)
	return k < 63 and 1 << k or 2.0 ^ k
end

-- [lo, hi) of a bucket; nil for an open end
local function bounds(self, b)
	if self.kind == "hist" then
		if b == 0 then
			return nil, 0
		elseif b == 1 then
			return 0, 1
		end
		return pow2(b - 2), pow2(b - 1)
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

local function frame_text(f)
	if f.func and f.file then
		return string.format("%s  %s:%d", f.func, f.file, f.line)
	end
	return string.format("%s  pc=0x%x", f.func or "?", f.pc)
end

local function key_text(k)
	if type(k) == "string" then
		return k
	elseif type(k) == "number" then
		return num_text(k) -- a uint64 key from 2^63 up: all the digits its float holds
	elseif is_stack(k) then
		local t = {}
		for i, f in ipairs(k) do
			t[i] = frame_text(f)
		end
		return table.concat(t, "\n")
	end
	return fmt.value(k)
end

local function value_text(self, v)
	if self.unit == "ns" and self.kind ~= "count" then
		return fmt.duration(v)
	end
	if math.type(v) == "float" and math.abs(v) < 2 ^ 53 then
		return string.format("%.1f", v)
	end
	return num_text(v)
end

local function sorted_buckets(g)
	local keys = {}
	for b in pairs(g.buckets or {}) do
		keys[#keys + 1] = b
	end
	table.sort(keys)
	return keys
end

-- The q-quantile of a histogram group, estimated from its buckets: the value
-- of rank ceil(q * count) is in the bucket where the running count reaches
-- it; it is placed inside that bucket by its position among the bucket's
-- counts (linear interpolation), and clamped to the group's exact min and
-- max, which also close the open buckets at either end.
local function quantile(self, g, q)
	local rank = math.max(1, math.ceil(q * g.count))
	local seen = 0
	for _, b in ipairs(sorted_buckets(g)) do
		local n = g.buckets[b]
		if seen + n >= rank then
			local lo, hi = bounds(self, b)
			lo = (lo == nil or lo < g.min) and g.min or lo
			hi = (hi == nil or hi > g.max) and g.max or hi
			local v = lo + (hi - lo) * ((rank - seen - 0.5) / n)
			if v < g.min then v = g.min end
			if v > g.max then v = g.max end
			return v
		end
		seen = seen + n
	end
	return g.max
end

-- An estimate as text: durations, or numbers with the precision they deserve
local function estimate_text(self, v)
	if self.unit == "ns" then
		return fmt.duration(v)
	end
	if math.abs(v) < 2 ^ 53 and math.floor(v) == v then
		return num_text(math.tointeger(v) or v)
	end
	return string.format("%.4g", v)
end

local QUANTILES = { { "p50", 0.5 }, { "p90", 0.9 }, { "p99", 0.99 } }

-- "count 12, average 3.2ms, p50 ~2.1ms, p90 ~7.9ms, p99 ~9.6ms"
local function stats_line(self, g)
	local t = { "count " .. num_text(g.count), "average " .. value_text(self, g.sum / g.count) }
	for _, q in ipairs(QUANTILES) do
		t[#t + 1] = q[1] .. " ~" .. estimate_text(self, quantile(self, g, q[2]))
	end
	return table.concat(t, ", ")
end

-- The items a print shows: all, or the n largest (in the same order)
local function top_items(items, n)
	if not n or n >= #items then
		return items
	end
	return table.move(items, #items - n + 1, #items, 1, {})
end

local function reversed(items)
	local r = {}
	for i = #items, 1, -1 do
		r[#r + 1] = items[i]
	end
	return r
end

local function indent(text, pad)
	return pad .. text:gsub("\n", "\n" .. pad)
end

--- The aggregation as text lines (what print writes); opts: { title, top = N }.
function Agg:lines(opts)
	if type(opts) ~= "table" then
		opts = { title = opts }
	end
	refresh(self)
	local title = opts.title or self.title or self.kind
	local out = {}
	local all = self:items()
	local items = top_items(all, opts.top)
	if #items == 0 then
		return { title .. ": no data" }
	end
	local more = #all > #items and string.format("  ... and %d more", #all - #items) or nil
	-- stacks are long: the most frequent first
	local stacks = is_stack(items[#items].key)
	if stacks then
		items = reversed(items)
	end
	if self.kind == "hist" or self.kind == "lhist" then
		for _, it in ipairs(items) do
			if it.key == nil then
				out[#out + 1] = title .. ":"
			elseif is_stack(it.key) then
				out[#out + 1] = title .. ":"
				out[#out + 1] = indent(key_text(it.key), "    ")
			else
				out[#out + 1] = string.format("%s [%s]:", title, key_text(it.key))
			end
			out[#out + 1] = stats_line(self, it.group)
			print_hist(self, it.group, out)
			out[#out + 1] = ""
		end
		out[#out + 1] = more
		return out
	end
	if #items == 1 and items[1].key == nil then
		out[1] = string.format("%s: %s", title, value_text(self, items[1].value))
		return out
	end
	out[1] = title .. ":"
	for _, it in ipairs(items) do
		if is_stack(it.key) or (type(it.key) == "string" and it.key:find("\n", 1, true)) then
			out[#out + 1] = "  " .. value_text(self, it.value)
			out[#out + 1] = indent(key_text(it.key), "    ")
		else
			out[#out + 1] = string.format("  %-30s %12s", key_text(it.key), value_text(self, it.value))
		end
	end
	out[#out + 1] = more
	return out
end

--- The aggregation as one JSON object; opts: { title, top = N }.
function M.json_of(self, opts)
	if type(opts) ~= "table" then
		opts = { title = opts }
	end
	local json = require "luprobe.json"
	local groups = {}
	for _, it in ipairs(top_items(self:items(), opts.top)) do
		local g = { key = it.key, count = it.group.count, sum = it.group.sum, min = it.group.min, max = it.group.max }
		if self.kind == "hist" or self.kind == "lhist" then
			local bs = {}
			for _, b in ipairs(sorted_buckets(it.group)) do
				local lo, hi = bounds(self, b)
				bs[#bs + 1] = { min = lo, max = hi, count = it.group.buckets[b] }
			end
			g.buckets = bs
			g.avg = it.group.sum / it.group.count
			for _, q in ipairs(QUANTILES) do
				g[q[1]] = quantile(self, it.group, q[2])
			end
		else
			g.value = it.value
		end
		groups[#groups + 1] = g
	end
	return json.encode({ aggregation = opts.title or self.title or self.kind, kind = self.kind,
		groups = groups })
end

function Agg:json(opts)
	return M.json_of(self, opts)
end

--- Print the aggregation (text, or one JSON line with --json): print([title]) or
--- print{ title = ..., top = N, clear = true }.
function Agg:print(opts)
	if type(opts) ~= "table" then
		opts = { title = opts }
	end
	if opts.top ~= nil and (math.type(opts.top) ~= "integer" or opts.top < 1) then
		error("print{ top = N }: N must be a positive integer", 2)
	end
	local text
	if luprobe.json_output then
		text = self:json(opts)
	else
		text = table.concat(self:lines(opts), "\n")
	end
	-- what this print showed (the groups just read): at exit, anything more is printed
	self.printed = total(self.groups)
	io.write(text, "\n")
	if opts.clear then
		self:clear()
	end
end

Agg.__tostring = function(self)
	return table.concat(self:lines(), "\n")
end

-- Called by luprobe after the on_exit handlers: print every aggregation that
-- counted something no print showed (never printed, or counted more since its
-- last print or clear, like the last part of an interval printed by a timer).
function M._at_exit()
	for _, a in ipairs(all) do
		local n = total(a:data())
		-- never printed, or counted since: printed (an empty one says so)
		if n ~= a.printed and (n > 0 or a.printed == nil) then
			a:print()
		end
	end
end

return M
