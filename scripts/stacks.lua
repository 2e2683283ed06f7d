-- SPDX-License-Identifier: BSD-2-Clause
-- @description Who calls a Go function: calls counted in the kernel by stack, or by process, thread or goroutine
-- @arg func   the Go function or glob (required)
-- @arg by     stack (default), comm, pid, tid or goid
-- @arg where  a predicate, e.g. 'comm == "app"' or 'goid > 1' (optional)
-- @arg top    print only the N most frequent keys (default: all)
-- @arg every  print (and start over) every this many seconds (default: at exit)
--
--   sudo luprobe scripts/stacks.lua -a func=main.leaf -p $(pidof app)
--   sudo luprobe scripts/stacks.lua -a func='database/sql.(*DB).QueryContext' -a top=5 -a every=10 -p PID
--   sudo luprobe scripts/stacks.lua -a func=os.Open -a by=comm -a where='pid != 1'
--
-- Counts live in BPF maps: no event per call. A stack is printed a frame per
-- line, function and file:line, the most frequent first; calls whose stack
-- could not be kept (more distinct stacks than --max-stacks) are counted as
-- "[stack not captured]".
local func = luprobe.args.func or error("give the function: -a func=pkg.Name")
local by = luprobe.args.by or "stack"
local top = tonumber(luprobe.args.top)
local every_s = tonumber(luprobe.args.every)

local p = probe{ func = func, args = false, where = luprobe.args.where }
local counts = p:count(by)
local title = string.format("calls of %s by %s", func, by)

if every_s then
	every(every_s * 1000, function()
		counts:print{ title = string.format("%s (last %gs)", title, every_s), top = top, clear = true }
		io.stdout:flush()
	end)
end

on_exit(function()
	if not every_s or (counts:items()[1] ~= nil) then
		counts:print{ title = title, top = top, clear = true }
	end
end)
