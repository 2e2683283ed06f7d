-- SPDX-License-Identifier: BSD-2-Clause
-- luprobe.optional: a probe on a function the binary may lack (a part of a
-- library the linker left out, a function another release names otherwise).
--
--   local optional = require "luprobe.optional"
--   local p = optional{ func = "net/http.(*response).Hijack", args = false }
--   if p then p:on_event(...) end
--
-- It returns the probe, or nil when the binary has no such function; any
-- other failure is raised as probe{} raised it.
return function(spec)
	local ok, p = pcall(probe, spec)
	if ok then
		return p
	end
	if type(p) == "string" and (p:find(": no such function in ", 1, true) or
			p:find(": no function matches in ", 1, true)) then
		return nil
	end
	error(p, 0)
end
