-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.runtime: what the Go runtime does for a program: the goroutines it
-- starts, by the function they run; its garbage collections; its panics,
-- recovered or not. Every Go release from 1.13, stripped binaries too (the
-- runtime functions are declared here, not looked up).
--
--   local rt = require "luprobe.runtime"
--   rt.goroutines(function(g) print("go", g.fn) end)
--   rt.gc(function(c) print("gc cycle", c.n) end)
--   rt.panics(function(p) print(p.type, p.value, p.recovered) end)
--
-- Each takes a function or { on_... = fn, target = ... } and returns its
-- probes.
--
-- goroutines: runtime.newproc1 runs once per go statement (and for the
-- runtime's own goroutines), on the system stack of the goroutine that
-- creates one; its first argument is the function value the new goroutine
-- runs. A go statement that passes arguments runs a wrapper the compiler
-- names after the function that holds the statement: main.main.func1 (to Go
-- 1.21), main.main.gowrap1 (from Go 1.22) for the first one in main.main, so
-- fn names the creation site. A record: { fn, pid, goid (the creator), event }.
--
-- gc: runtime.gcMarkTermination runs once per cycle, forced or not, as
-- runtime.MemStats.NumGC counts them. A record: { n (cycles seen in this
-- process), pid, event }.
--
-- panics: runtime.gopanic gives the value (its dynamic type, and the value of
-- a string, an error or a number); a recover() that returns it, on the same
-- goroutine, marks it recovered (runtime.gorecover's result). A recovered
-- panic is reported when it is recovered, one that nothing recovered when the
-- run ends. A record: { type, value, recovered, pid, goid, event (the panic's) }.
local M = {}

local function opts_of(opts, key, who)
	if type(opts) == "function" then
		opts = { [key] = opts }
	end
	local fn = opts[key] or error(string.format("luprobe.runtime.%s: %s is required", who, key), 3)
	return opts, fn
end

function M.goroutines(opts)
	local fn
	opts, fn = opts_of(opts, "on_start", "goroutines")
	local p = probe{ func = "runtime.newproc1", target = opts.target, args = { { "fn", "func()" } } }
	p:on_event(function(e)
		fn{ fn = e.args.fn, pid = e.pid, goid = e.goid, event = e }
	end)
	return { newproc = p }
end

function M.gc(opts)
	local fn
	opts, fn = opts_of(opts, "on_gc", "gc")
	local n = {}
	local p = probe{ func = "runtime.gcMarkTermination", target = opts.target, args = false }
	p:on_event(function(e)
		n[e.pid] = (n[e.pid] or 0) + 1
		fn{ n = n[e.pid], pid = e.pid, event = e }
	end)
	return { termination = p }
end

-- the value of an `any` as the decoder read it: its type, and its value when
-- the decoder could read one (a string, an error's message, a number)
local function value_of(v)
	if type(v) ~= "table" then
		return "nil", nil
	end
	local val = v.value
	if type(val) ~= "string" and math.type(val) == nil and type(val) ~= "boolean" then
		val = nil
	end
	return v.type or "?", val
end

function M.panics(opts)
	local fn
	opts, fn = opts_of(opts, "on_panic", "panics")
	-- panics in flight per goroutine ("pid:goid"), the newest last
	local pending = {}
	local raise = probe{ func = "runtime.gopanic", target = opts.target, args = { { "e", "any" } } }
	raise:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local t, v = value_of(e.args.e)
		pending[k] = pending[k] or {}
		table.insert(pending[k], { type = t, value = v, pid = e.pid, goid = e.goid, event = e })
	end)
	-- gorecover(argp) to Go 1.22, gorecover() after: only the result is read
	local recover = probe{ func = "runtime.gorecover", target = opts.target, args = false,
		ret = { { "v", "any" } } }
	recover:on_event(function(e)
		local v = e.ret.v
		if type(v) ~= "table" or v.type == nil or v.type == "nil" then
			return -- no panic to recover: recover() returned nil
		end
		local k = e.pid .. ":" .. e.goid
		local list = pending[k]
		local r = list and table.remove(list)
		if list and #list == 0 then
			pending[k] = nil -- a server panicking on ever new goroutines keeps no entry each
		end
		if r then
			r.recovered = true
			fn(r)
		end
	end)
	on_exit(function()
		for _, list in pairs(pending) do
			for _, r in ipairs(list) do
				r.recovered = false
				fn(r)
			end
		end
	end)
	return { gopanic = raise, gorecover = recover }
end

return M
