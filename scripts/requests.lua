-- SPDX-License-Identifier: BSD-2-Clause
-- @description POST requests to /api/ a net/http server handles, as Go shows them (needs DWARF)
-- @arg prefix  the path prefix (default /api/)
--
--   sudo luprobe scripts/requests.lua -p $(pidof server)
--
-- The predicate runs in the kernel: other requests cost no event. The
-- request is shown as far as a probe's plan has room: an *http.Request with
-- every string, header map and interface followed needs more than one call
-- can carry, so what is left out prints as `...` (a pointer not followed as
-- its address), never as a made-up value. Fields read from Lua that were left
-- out are luprobe.notcaptured.
local prefix = luprobe.args.prefix or "/api/"

local p = probe{
	func = "net/http.serverHandler.ServeHTTP",
	where = string.format('req.Method == "POST" and prefix(req.URL.Path, %q)', prefix),
}

p:on_event(function(e)
	local req = e.args.req
	printf("%s %s from %s, %d bytes\n", req.Method, req.RequestURI, req.RemoteAddr,
		req.ContentLength)
	print("  " .. tostring(e))
	io.stdout:flush()
end)
