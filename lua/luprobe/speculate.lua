-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.speculate: hold the events that happen inside each call of an
-- outer function (in its goroutine and in every goroutine started inside it)
-- until the call returns, then keep them or drop them, as DTrace's
-- speculations and tail-based sampling do.
--
--   local speculate = require "luprobe.speculate"
--   local req = probe{ func = "main.handle", args = { "req" }, ret = true }
--   speculate{
--     outer = req,
--     inner = { { func = "database/sql.(*DB).QueryContext", args = { { "q", "string" } } } },
--     keep = function(call) return call.latency > 100e6 end,
--     on_keep = function(call, events)
--       print(call)
--       for _, e in ipairs(events) do print("  ", e) end
--     end,
--   }
--
-- outer is a probe with ret = true (one event per call, with its latency).
-- inner lists probes or probe specifications: a specification becomes
-- probe{ ..., within = outer, spawned = true }, and a probe must have been
-- made so. The kernel sends only the inner events that happen inside a call
-- of outer, each with the goroutine of that call (e.scope_goid), so calls
-- outside cost no event; the held events wait in Lua.
--
-- When the outer event arrives, keep(call) decides (default: keep every
-- call); kept, on_keep(call, events) gets the outer event and the inner
-- events of its time span [call.ts, call.ts + call.latency], in time order,
-- and call.dropped is the number of events not held for it (bounds below).
-- Bounds: max_events events held per call (default 1000; later ones are
-- counted in events_dropped), max_calls calls held at once (default 1024; a
-- new one evicts the oldest, whose events are counted in calls_evicted and
-- events_dropped). An inner event older than the call it is held for came
-- too late for an earlier call (another CPU wrote it after that call's
-- return): dropped and counted in late. s:stats() gives the counters; when
-- anything was dropped, one line says so on stderr at exit. speculate.trace(call,
-- events) gives a kept call as a tree of spans (the call, its inner events).
local M = {}

local Spec = {}
Spec.__index = Spec

local DEFAULTS = { max_events = 1000, max_calls = 1024 }

local function inner_probe(outer, spec, i)
	if type(spec) == "userdata" then
		return spec
	end
	if type(spec) ~= "table" then
		error(string.format("speculate: inner[%d] must be a probe or a probe specification",
			i), 3)
	end
	local t = {}
	for k, v in pairs(spec) do
		t[k] = v
	end
	t.within, t.spawned = outer, true
	return probe(t)
end

local function count(opts, name)
	local n = opts[name] or DEFAULTS[name]
	if math.type(n) ~= "integer" or n < 1 then
		error(string.format("speculate: %s must be a positive integer", name), 3)
	end
	return n
end

-- Held events of one call: those of goroutine goid of process pid.
local function held(s, e, goid)
	local byproc = s.open[e.pid]
	if not byproc then
		byproc = {}
		s.open[e.pid] = byproc
	end
	local h = byproc[goid]
	if h then
		return h
	end
	if s.nopen >= s.max_calls then
		s:evict()
	end
	h = { pid = e.pid, goid = goid, n = 0, dropped = 0 }
	byproc[goid] = h
	s.nopen = s.nopen + 1
	s.order[#s.order + 1] = h
	if #s.order - s.head > 2 * s.nopen + 64 then
		s:compact()
	end
	return h
end

local function forget(s, h)
	local byproc = s.open[h.pid]
	if byproc and byproc[h.goid] == h then
		byproc[h.goid] = nil
		s.nopen = s.nopen - 1
		h.gone = true
	end
end

-- The oldest held call goes, with its events.
function Spec:evict()
	local order = self.order
	while self.head <= #order do
		local h = order[self.head]
		self.head = self.head + 1
		if not h.gone then
			forget(self, h)
			for i = 1, h.n do
				h[i] = nil
			end
			self.st.calls_evicted = self.st.calls_evicted + 1
			self.st.events_evicted = self.st.events_evicted + h.n
			self.st.events_dropped = self.st.events_dropped + h.n
			break
		end
	end
end

-- The queue of held calls, oldest first, without those decided since.
function Spec:compact()
	local order, n = self.order, {}
	for i = self.head, #order do
		if not order[i].gone then
			n[#n + 1] = order[i]
		end
	end
	self.order, self.head = n, 1
end

function Spec:inner(e)
	local goid = e.scope_goid
	if not goid then
		error(string.format("speculate: %s is not scoped to the outer probe: declare it with "
			.. "within = outer, spawned = true", e.func), 0)
	end
	local h = held(self, e, goid)
	if h.n >= self.max_events then
		h.dropped = h.dropped + 1
		self.st.events_over = self.st.events_over + 1
		self.st.events_dropped = self.st.events_dropped + 1
		return
	end
	h.n = h.n + 1
	h[h.n] = e
end

function Spec:outer(e)
	local st = self.st
	st.calls = st.calls + 1
	if not e.latency then
		error("speculate: the outer probe " .. e.func .. " needs ret = true", 0)
	end
	local start, stop = e.ts, e.ts + e.latency
	local byproc = self.open[e.pid]
	local h = byproc and byproc[e.goid]
	local mine, rest, late, dropped = {}, {}, 0, 0
	if h then
		for i = 1, h.n do
			local ev = h[i]
			if ev.ts < start then
				late = late + 1
			elseif ev.ts <= stop then
				mine[#mine + 1] = ev
			else
				rest[#rest + 1] = ev
			end
		end
		dropped = h.dropped
		forget(self, h)
		if #rest > 0 then
			-- events of the goroutine's next call already: held for it
			local nh = held(self, e, e.goid)
			for i = 1, #rest do
				nh[i] = rest[i]
			end
			nh.n = #rest
		end
	end
	st.late = st.late + late
	st.events_dropped = st.events_dropped + late
	local call = setmetatable({ event = e, dropped = dropped }, { __index = e,
		__tostring = function() return tostring(e) end })
	if self.keep(call) then
		st.kept = st.kept + 1
		st.events_kept = st.events_kept + #mine
		table.sort(mine, function(a, b) return a.ts < b.ts end)
		self.on_keep(call, mine)
	else
		st.discarded = st.discarded + 1
		st.events_discarded = st.events_discarded + #mine
	end
end

-- Counters: calls (outer calls seen), kept, discarded, events_kept,
-- events_discarded, events_dropped (not held or not delivered: the sum of
-- events_over, events_evicted and late), calls_evicted, open (calls held now).
function Spec:stats()
	local t = {}
	for k, v in pairs(self.st) do
		t[k] = v
	end
	t.open = self.nopen
	return t
end

function Spec:report()
	local st = self.st
	if st.events_dropped == 0 and st.calls_evicted == 0 then
		return
	end
	io.stderr:write(string.format("luprobe.speculate %s: %d calls, %d kept; %d events dropped "
		.. "(%d over max_events %d, %d of %d calls evicted over max_calls %d, %d late)\n",
		self.name, st.calls, st.kept, st.events_dropped, st.events_over, self.max_events,
		st.events_evicted, st.calls_evicted, self.max_calls, st.late))
end

-- A kept call as one trace, the shape an exporter of spans wants: the call
-- is the parent span, each inner event a child; times in CLOCK_MONOTONIC ns.
function M.trace(call, events)
	local root = { name = call.func, start = call.ts, stop = call.ts + call.latency,
		pid = call.pid, goid = call.goid, event = call.event, children = {} }
	for i, e in ipairs(events) do
		root.children[i] = { name = e.func, start = e.ts, stop = e.ts + (e.latency or 0),
			goid = e.goid, parent_goid = e.parent_goid, event = e }
	end
	return root
end

setmetatable(M, { __call = function(_, opts) return M.new(opts) end })

function M.new(opts)
	if type(opts) ~= "table" or type(opts.outer) ~= "userdata" then
		error("speculate: give { outer = probe{ ..., ret = true }, inner = { ... }, "
			.. "on_keep = fn }", 2)
	end
	if type(opts.inner) ~= "table" or #opts.inner == 0 then
		error("speculate: inner must list at least one probe or probe specification", 2)
	end
	if type(opts.on_keep) ~= "function" then
		error("speculate: on_keep must be a function (call, events)", 2)
	end
	if opts.keep ~= nil and type(opts.keep) ~= "function" then
		error("speculate: keep must be a function (call) returning true to keep", 2)
	end
	local s = setmetatable({
		name = opts.outer.func,
		keep = opts.keep or function() return true end,
		on_keep = opts.on_keep,
		max_events = count(opts, "max_events"),
		max_calls = count(opts, "max_calls"),
		open = {}, nopen = 0, order = {}, head = 1,
		st = { calls = 0, kept = 0, discarded = 0, events_kept = 0, events_discarded = 0,
			events_dropped = 0, events_over = 0, events_evicted = 0, late = 0,
			calls_evicted = 0 },
		inner_probes = {},
	}, Spec)
	for i, spec in ipairs(opts.inner) do
		local p = inner_probe(opts.outer, spec, i)
		s.inner_probes[i] = p
		p:on_event(function(e) s:inner(e) end)
	end
	opts.outer:on_event(function(e) s:outer(e) end)
	on_exit(function() s:report() end)
	return s
end

return M
