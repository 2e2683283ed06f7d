-- SPDX-License-Identifier: BSD-2-Clause
-- @description files a Go program opens (os.OpenFile), with flags and outcome; stripped binaries too
--
-- os.OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) is in
-- the standard library: luprobe knows its signature for every Go release, so
-- this works on stripped binaries without declaring anything.
--
--   sudo luprobe scripts/opens.lua -- ./app
local p = probe{ func = "os.OpenFile", ret = true }

p:on_event(function(e)
	local err = e.ret["~r1"]
	printf("open %s flag=0x%x perm=%o: %s\n", e.args.name, e.args.flag, e.args.perm,
		err == nil and "ok" or tostring(err))
end)
