-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.http: one record per HTTP request a net/http server handles, with
-- method, path, status and latency.
--
--   local http = require "luprobe.http"
--   http.requests(function(r)
--     printf("%s %s %d %s\n", r.method, r.path, r.status, fmt.duration(r.latency))
--   end)
--
-- http.requests{ on_request = fn, target = "./app", where = "..." } also works;
-- `where` filters in the kernel on req.Method and req.URL.Path, e.g.
-- 'prefix(req.URL.Path, "/api/")'. It returns { serve = probe, status = probe }.
--
-- It probes net/http.serverHandler.ServeHTTP (one call per request, its
-- latency is the handler's) and (*response).WriteHeader (the status; a
-- handler that writes nothing answers 200). Their arguments are declared, not
-- read from DWARF: Request.Method and Request.URL have been the first fields
-- of http.Request, and Scheme, Opaque, User, Host, Path the first of url.URL,
-- in every Go release, so stripped binaries work too.
local M = {}

local REQUEST = "*struct{ Method string; URL *struct{ Scheme string; Opaque string; User uintptr; "
	.. "Host string; Path string } }"

function M.requests(opts)
	if type(opts) == "function" then
		opts = { on_request = opts }
	end
	local on_request = opts.on_request or error("luprobe.http.requests: on_request is required", 2)
	local status = {} -- [pid:goid] = first status written by the request being served

	local write = probe{
		func = "net/http.(*response).WriteHeader",
		target = opts.target,
		args = { { "w", "uintptr" }, { "code", "int" } },
	}
	write:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		-- the first WriteHeader counts; later ones are "superfluous" to net/http too
		if not status[k] then
			status[k] = e.args.code
		end
	end)

	local serve = probe{
		func = "net/http.serverHandler.ServeHTTP",
		target = opts.target,
		args = { { "sh", "uintptr" }, { "rw", "error" }, { "req", REQUEST } },
		ret = {},
		deref = 2,
		strcap = opts.strcap or 128,
		where = opts.where,
		within = opts.within,
	}
	serve:on_event(function(e)
		local k = e.pid .. ":" .. e.goid
		local req = e.args.req
		local url = req and req.URL
		on_request{
			method = req and req.Method or "?",
			path = url and url.Path or "?",
			status = status[k] or 200,
			latency = e.latency,
			pid = e.pid,
			goid = e.goid,
			event = e,
		}
		status[k] = nil
	end)
	return { serve = serve, status = write }
end

return M
