# SPDX-License-Identifier: BSD-2-Clause
"""luprobe.sql on stripped builds of tests/go/webapp (Go 1.19 and the newest
Go): the parameters and results of database/sql's methods come from the
standard library's signature table, named as in the Go sources."""
import tempfile

from lib import each_toolchain, expect, expect_eq, gobin, run, write_script

QUERIES = """
local sql = require "luprobe.sql"
sql.queries{ where = %s, on_query = function(q)
	printf("Q %%s %%s %%s %%s\\n", q.kind, q.query, q.err or "-",
		math.type(q.latency) == "integer" and q.latency > 0 and "ns" or tostring(q.latency))
end }
"""

NAME = "SELECT name FROM users WHERE id = ?"
ONE = "SELECT 1 FROM users WHERE id = ?"
INSERT = "INSERT INTO orders (user_id, item) VALUES (?, ?)"
# one round of webapp -workload: what main.go's workload runs, in order
ROUND = [("query", NAME, "-"), ("query", NAME, "-"), ("query", NAME, "fakedb: row 13 is locked"),
         ("query", NAME, "-"), ("query", ONE, "-"), ("exec", INSERT, "-"), ("query", ONE, "-"),
         ("exec", INSERT, "-"), ("query", "SELECT count(*) FROM orders", "-")]


def _queries(variant, where="nil", opts=()):
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "queries.lua", QUERIES % where)
        code, lines, err = run("-q", *opts, script, "--", gobin("webapp", variant),
                               "-workload", "2")
    expect_eq(code, 0, f"exit code ({err[-600:]})")
    return [ln for ln in lines if ln.startswith("Q ")], err


@each_toolchain
def test_sql_module_on_stripped_builds_gives_every_query_with_its_error():
    for variant in ("stripped", "default"):
        got, err = _queries(variant, opts=("-v",))
        expect_eq(got, [f"Q {k} {q} {e} ns" for k, q, e in ROUND * 2], f"{variant}: queries")
        for m in ("QueryContext", "ExecContext"):
            expect(f"luprobe.sql: database/sql.(*DB).{m}: parameters and results from the "
                   "binary's signature\n" in err, err[-800:])


@each_toolchain
def test_sql_module_filters_on_the_parameters_the_signature_table_names():
    """db and args are the names database/sql's sources give (the module once
    declared the receiver as recv): a where on them runs in the kernel on the
    stripped build."""
    got, _ = _queries("stripped", where="'db ~= nil and len(args) == 2'")
    expect_eq(got, [f"Q exec {INSERT} - ns"] * 4, "the statements with two arguments")
    got, _ = _queries("stripped", where="'len(args) == 0'")
    expect_eq(got, ["Q query SELECT count(*) FROM orders - ns"] * 2, "the query without arguments")
