-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.metrics: what --metrics exports of the script's aggregations, and
-- how a script names and describes them.
--
--   local metrics = require "luprobe.metrics"
--   local p = probe{ func = "main.handle", args = { "path" }, ret = true }
--   metrics.export(p:count("path"), { name = "app_requests", help = "Requests by path" })
--   metrics.export(p:hist("latency"), { name = "app_request_latency" })
--   metrics.export(debug_agg, false) -- not exported
--
-- Every aggregation (luprobe.agg, and the probes' in-kernel ones) is exported
-- unless the script says otherwise; export() only names it. Names are
-- snake_case; luprobe adds the unit (_seconds for latency, which is exported
-- in seconds) and _total for counters. Keys are labels: the key's name for a
-- probe's aggregation (p:count("path") -> path="/a"), else "key"; a probe's
-- aggregations have the function too (function="main.handle").
local agg = require "luprobe.agg"

local M = {}
local chosen = setmetatable({}, { __mode = "k" }) -- aggregation -> options, or false

local MIN_TOP = 36 -- the log2 buckets shown go at least to [2^34, 2^35)

local KINDS = { count = "counter", sum = "counter", min = "gauge", max = "gauge", avg = "gauge",
	hist = "histogram", lhist = "histogram" }

local function is_agg(a)
	return type(a) == "table" and KINDS[rawget(a, "kind")] ~= nil and rawget(a, "groups") ~= nil
end

--- Name and describe what an aggregation exports (or opts = false: not at all).
--- opts: name, help, label (the key's label), type ("counter" or "gauge", not for histograms).
function M.export(a, opts)
	if not is_agg(a) then
		error("metrics.export(aggregation, options): an aggregation of luprobe.agg or of a probe", 2)
	end
	if opts == false then
		chosen[a] = false
		return a
	end
	if type(opts) ~= "table" then
		error("metrics.export(aggregation, options): options must be a table or false", 2)
	end
	if opts.name ~= nil and (type(opts.name) ~= "string" or not opts.name:match("^[%a_:][%w_:]*$")) then
		error("metrics.export: name must be snake_case letters, digits and _, e.g. \"http_requests\"", 2)
	end
	if opts.label ~= nil and (type(opts.label) ~= "string" or not opts.label:match("^[%a_][%w_]*$")
		or opts.label:match("^__") or opts.label == "le" or opts.label == "function") then
		error("metrics.export: label must be letters, digits and _ (not le or function), e.g. \"path\"", 2)
	end
	if opts.help ~= nil and type(opts.help) ~= "string" then
		error("metrics.export: help must be a string", 2)
	end
	if opts.type ~= nil and (opts.type ~= "counter" and opts.type ~= "gauge" or KINDS[a.kind] == "histogram") then
		error("metrics.export: type is \"counter\" or \"gauge\", and a histogram has neither", 2)
	end
	chosen[a] = { name = opts.name, help = opts.help, label = opts.label, type = opts.type }
	return a
end

local function snake(s)
	s = tostring(s):gsub("(%l)(%u)", "%1_%2"):lower():gsub("[^%w_]+", "_"):gsub("_+", "_")
	return (s:gsub("^_", ""):gsub("_$", ""))
end

local num_text = require("luprobe.fmt").number

local function key_text(k)
	if type(k) == "number" then
		return num_text(k)
	end
	return tostring(k)
end

-- The family of an aggregation: name, unit, type, help, and its labels' names.
local function family_of(a, i, o)
	local src, kind = a.source, a.kind
	local seconds = a.unit == "ns" and kind ~= "count"
	local name = o.name or a.name
	if not name then
		if src then
			local v = src.value == "latency" and "latency" or src.value and snake(src.value)
			name = "luprobe_" .. (kind == "count" and "calls" or v)
			if kind == "min" or kind == "max" or kind == "avg" then
				name = name .. "_" .. kind
			end
		else
			name = "luprobe_" .. (a.title and snake(a.title) ~= "" and snake(a.title) or kind .. "_" .. i)
		end
	end
	local keylabel = o.label or (src and src.key and src.key ~= "func" and snake(src.key)) or "key"
	if keylabel == "le" or keylabel == "function" or keylabel == "" then
		keylabel = "key"
	end
	return {
		name = name,
		unit = seconds and "seconds" or nil,
		type = o.type or KINDS[kind],
		help = o.help or a.help or ("luprobe aggregation: " .. (a.title or kind)),
		keylabel = keylabel,
		scale = seconds and 1e9 or 1, -- ns per second: divided, 3 ns is 3e-09 s
	}
end

-- [first, last] buckets every group of a histogram shows, and each one's inclusive upper bound
local function hist_layout(a, data)
	local lo, hi = 1, 1
	if a.kind == "lhist" then
		-- max - min may need all 64 bits: read it as unsigned
		local n = a.max - a.min
		n = math.type(n) == "integer" and n < 0 and math.ult(0, n) and (((n >> 1) // a.step) << 1)
			or n // a.step
		local int = math.type(a.min) == "integer" and math.type(a.step) == "integer"
		return 0, n, function(b)
			-- bucket 0 is below min; 1 + i is [min + i*step, min + (i+1)*step)
			local top = a.min + b * a.step
			return int and top - 1 or top
		end
	end
	for _, g in pairs(data) do
		for b in pairs(g.buckets or {}) do
			if b == 0 then lo = 0 end
			if b > hi then hi = b end
		end
	end
	-- bucket 0: negative; 1: zero; 2 + k: [2^k, 2^(k+1)) (integers: up to 2^(k+1) - 1).
	-- Up to 2^35 - 1 at least (34 s of latency): every node shows the same buckets, so
	-- they add up across nodes, and a bucket rarely appears late.
	return lo, math.max(hi, MIN_TOP), function(b)
		if b == 0 then return -1 end
		if b == 1 then return 0 end
		if b - 1 < 63 then return (1 << (b - 1)) - 1 end
		return 2.0 ^ (b - 1)
	end
end

local function value_of(a, g)
	if a.kind == "count" then return g.count end
	if a.kind == "avg" then return g.sum / g.count end
	return g[a.kind]
end

local function scaled(v, scale)
	return scale == 1 and v or v / scale
end

-- keys in a stable order: numbers, then the rest by their text
local function sorted_keys(data)
	local keys = {}
	for k in pairs(data) do
		keys[#keys + 1] = k
	end
	table.sort(keys, function(x, y)
		local nx, ny = type(x) == "number", type(y) == "number"
		if nx ~= ny then
			return nx
		end
		if nx then
			return x < y
		end
		return key_text(x) < key_text(y)
	end)
	return keys
end

local function samples_of(a, f, data)
	local out, lo, hi, le = {}, nil, nil, nil
	if f.type == "histogram" then
		lo, hi, le = hist_layout(a, data)
	end
	for _, k in ipairs(sorted_keys(data)) do
		local g, labels = data[k], {}
		if a.source then
			labels[1], labels[2] = "function", a.source.key == "func" and key_text(k) or a.source.func
		end
		if k ~= agg.NOKEY and not (a.source and a.source.key == "func") then
			labels[#labels + 1], labels[#labels + 2] = f.keylabel, key_text(k)
		end
		local s = { labels = labels }
		if f.type == "histogram" then
			local buckets = {}
			for b = lo, hi do
				if le(b) ~= math.huge and (a.kind == "hist" and b < 66 or a.kind == "lhist") then
					buckets[#buckets + 1] = scaled(le(b), f.scale)
					buckets[#buckets + 1] = g.buckets and g.buckets[b] or 0
				end
			end
			s.buckets, s.count, s.value = buckets, g.count, scaled(g.sum, f.scale)
		else
			s.value = scaled(value_of(a, g), f.scale)
		end
		out[#out + 1] = s
	end
	return out
end

-- Called by luprobe for a scrape: { { name, unit, type, help, samples = { { labels =
-- { k, v, ... }, value, count, buckets = { le, n, ... } } } } }.
function M._collect()
	local fams, byname, series = {}, {}, {}
	for i, a in ipairs(agg._all()) do
		local o = chosen[a]
		if o ~= false then
			local f = family_of(a, i, o or {})
			local have = byname[f.name]
			if have and (have.type ~= f.type or have.unit ~= f.unit) then
				-- another aggregation took the name with another type: this one is told apart
				f.name = f.name .. "_" .. i
				have = nil
			end
			if not have then
				have = { name = f.name, unit = f.unit, type = f.type, help = f.help, samples = {} }
				byname[f.name] = have
				fams[#fams + 1] = have
			end
			for _, s in ipairs(samples_of(a, f, a:data())) do
				-- the same series from two aggregations (two p:count() of one function)
				local id = f.name .. "\0" .. table.concat(s.labels, "\0")
				if series[id] then
					s.labels[#s.labels + 1], s.labels[#s.labels + 2] = "aggregation", tostring(i)
				end
				series[id] = true
				have.samples[#have.samples + 1] = s
			end
		end
	end
	return fams
end

return M
