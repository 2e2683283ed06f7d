-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.sql: database/sql queries and statements with their text, latency
-- and error.
--
--   local sql = require "luprobe.sql"
--   sql.queries(function(q)
--     printf("%-6s %8s %s %s\n", q.kind, fmt.duration(q.latency), q.query, q.err or "")
--   end)
--
-- It probes QueryContext and ExecContext of *sql.DB, *sql.Tx and *sql.Conn
-- (Query, QueryRow and Exec call them), where the binary has them; q.kind is
-- "query" or "exec", q.err the error's message, or nil. Row errors such as
-- sql.ErrNoRows come later, from Row.Scan, and are not the query's error.
-- Options: { on_query = fn, target = "./app", strcap = 256, where = "..." };
-- `where` can test the parameters db, ctx, query and args, e.g.
-- 'prefix(query, "SELECT") and len(args) > 0'.
--
-- The methods are exported, so the binary's DWARF or, on a stripped binary,
-- the standard library's signature table names and types their parameters
-- and results for the binary's Go release. Only where neither does (a Go
-- release newer than the table, a signature that does not fit the binary)
-- are they declared here, in the order every release has them; luprobe -v
-- says which was used.
local M = {}

-- the declared fallback: a pointer receiver, then ctx, query, args
local ARGS = { { "db", "uintptr" }, { "ctx", "error" }, { "query", "string" }, { "args", "[]any" },
	"query" }

-- QueryContext returns (*Rows, error), ExecContext (Result, error): an
-- interface takes two words, a pointer one, so the error is elsewhere.
local QUERY_RET = { { "rows", "uintptr" }, { "err", "error" } }
local EXEC_RET = { { "result", "error" }, { "err", "error" } }

local FUNCS = {
	{ "database/sql.(*DB).QueryContext", "query", QUERY_RET },
	{ "database/sql.(*DB).ExecContext", "exec", EXEC_RET },
	{ "database/sql.(*Tx).QueryContext", "query", QUERY_RET },
	{ "database/sql.(*Tx).ExecContext", "exec", EXEC_RET },
	{ "database/sql.(*Conn).QueryContext", "query", QUERY_RET },
	{ "database/sql.(*Conn).ExecContext", "exec", EXEC_RET },
}

local function note(fmt, ...)
	if luprobe.verbosity > 0 then
		io.stderr:write(string.format("luprobe.sql: " .. fmt .. "\n", ...))
	end
end

-- The probe on f: its signature from the binary, else declared; nil when
-- the binary does not have f.
local function open(f, opts)
	local spec = {
		func = f[1],
		target = opts.target,
		args = { "query" },
		ret = true,
		deref = 0,
		strcap = opts.strcap or 256,
		where = opts.where,
		within = opts.within,
	}
	local ok, p = pcall(probe, spec)
	if ok then
		note("%s: parameters and results from the binary's signature", f[1])
		return p
	end
	if tostring(p):find("no such function", 1, true) then
		return nil
	end
	if not tostring(p):find("declare the arguments", 1, true) then
		error(p, 3)
	end
	spec.args, spec.ret, spec.elems = ARGS, f[3], 1
	ok, p = pcall(probe, spec)
	if not ok then
		error(p, 3)
	end
	note("%s: no signature in the binary; parameters and results as declared", f[1])
	return p
end

local message = require("luprobe.fmt").errmsg

function M.queries(opts)
	if type(opts) == "function" then
		opts = { on_query = opts }
	end
	local on_query = opts.on_query or error("luprobe.sql.queries: on_query is required", 2)
	local probes = {}
	for _, f in ipairs(FUNCS) do
		local p = open(f, opts)
		if p then
			p:on_event(function(e)
				on_query{
					kind = f[2],
					query = e.args.query,
					latency = e.latency,
					err = message(e.err),
					pid = e.pid,
					goid = e.goid,
					func = e.func,
					event = e,
				}
			end)
			probes[#probes + 1] = p
		end
	end
	if #probes == 0 then
		error("luprobe.sql: the binary does not use database/sql", 2)
	end
	return probes
end

return M
