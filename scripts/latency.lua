-- SPDX-License-Identifier: BSD-2-Clause
-- @description Latency histogram of any Go function, kept in the kernel
-- @arg func   the Go function or glob (required)
-- @arg by     an argument to split the histogram by (optional)
-- @arg every  print (and start over) every this many seconds (default: at exit)
--
--   sudo luprobe scripts/latency.lua -a func=main.computeE -p $(pidof computee)
--   sudo luprobe scripts/latency.lua -a func='net/http.(*ServeMux).ServeHTTP' -a every=5 -p PID
--
-- The histogram lives in BPF maps: no event crosses to user space per call,
-- so this costs about what the probes themselves cost.
local func = luprobe.args.func or error("give the function: -a func=pkg.Name")
local by = luprobe.args.by
local every_s = tonumber(luprobe.args.every)

local p = probe{ func = func, ret = true, args = by and { by } or false }
local h = p:hist("latency", by)

if every_s then
	every(every_s * 1000, function()
		h:print(string.format("%s latency (last %gs)", func, every_s))
		h:clear()
		io.stdout:flush()
	end)
end
