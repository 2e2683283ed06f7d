-- SPDX-License-Identifier: BSD-2-Clause
-- @description Calls of a Go function made while a net/http handler runs (panicking ones too)
-- @arg func  the Go function (required)
--
--   sudo luprobe scripts/in-handlers.lua -a func=database/sql.(*DB).QueryContext -p $(pidof app)
--
-- The scope ends when the handler's frame is gone, however it left: a handler
-- that panics (net/http recovers it) does not leave its goroutine "inside".
local func = luprobe.args.func or error("give the function: -a func=NAME")
local handler = probe{ func = "net/http.serverHandler.ServeHTTP", args = false }
handler:on_event(function() end)
local calls = 0
probe{ func = func, within = handler }:on_event(function(e)
	calls = calls + 1
	print(e)
	io.stdout:flush()
end)
on_exit(function() printf("%d call%s of %s inside handlers\n", calls, calls == 1 and "" or "s", func) end)
