-- SPDX-License-Identifier: BSD-2-Clause
-- @description Non-nil errors returned by the functions of a Go package, counted in the kernel
-- @arg pkg  the package path, e.g. net/http or github.com/you/app/store (required)
--
--   sudo luprobe scripts/errors.lua -a pkg=luprobe.test/webapp/store -p $(pidof webapp)
--
-- `err` in a predicate is the function's last result when it is an error;
-- functions that return no error are skipped (and counted in a message), and
-- so are those whose capture luprobe cannot make. The signatures come from DWARF,
-- a debug file, the std table or runtime types: stripped, std packages and methods
-- work (pkg=strconv); a package luprobe knows no signature of is refused, exit 1.
local pkg = luprobe.args.pkg or error("give the package: -a pkg=path/to/pkg")

local p = probe{ func = pkg .. ".*", ret = true, where = "err ~= nil" }
local by_func = p:count("func")

on_exit(function()
	by_func:print("non-nil errors by function in " .. pkg)
end)
