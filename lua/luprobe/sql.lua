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
-- `where` can test query, e.g. 'prefix(query, "SELECT")'.
local M = {}

local ARGS = { { "recv", "uintptr" }, { "ctx", "error" }, { "query", "string" }, { "args", "[]any" } }

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

local function message(err)
	if err == nil then
		return nil
	end
	if type(err) == "table" and type(err.value) == "string" then
		return err.value
	end
	return type(err) == "table" and err.type or tostring(err)
end

function M.queries(opts)
	if type(opts) == "function" then
		opts = { on_query = opts }
	end
	local on_query = opts.on_query or error("luprobe.sql.queries: on_query is required", 2)
	local probes = {}
	for _, f in ipairs(FUNCS) do
		local ok, p = pcall(probe, {
			func = f[1],
			target = opts.target,
			args = ARGS,
			ret = f[3],
			strcap = opts.strcap or 256,
			elems = 1,
			where = opts.where,
			within = opts.within,
		})
		if ok then
			p:on_event(function(e)
				on_query{
					kind = f[2],
					query = e.args.query,
					latency = e.latency,
					err = message(e.ret.err),
					pid = e.pid,
					goid = e.goid,
					func = e.func,
					event = e,
				}
			end)
			probes[#probes + 1] = p
		elseif not tostring(p):find("no such function", 1, true) then
			error(p, 2)
		end
	end
	if #probes == 0 then
		error("luprobe.sql: the binary does not use database/sql", 2)
	end
	return probes
end

return M
