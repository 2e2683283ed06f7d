# SPDX-License-Identifier: BSD-2-Clause
"""luprobe -l on stripped builds: closures and generic instantiations say what
they are, with the source of their signature and their layout."""
import subprocess

from lib import LUPROBE, each_toolchain, expect_eq, gobin, go_minor

CLOSURE = ": its captured variables are not arguments"
SHAPE = ("generic, shape instantiation: it takes a dictionary first (after a method's receiver), "
         "which the layout does not show")
UNNAMED = ("generic instantiation (the binary does not name its type arguments): a shape "
           "instantiation takes a dictionary first (after a method's receiver), which the layout "
           "does not show")
WRAPPER = "generic instantiation: a wrapper that calls the shape instantiation with its dictionary"


def _listing(binary, glob):
    p = subprocess.run([LUPROBE, "-l", binary, glob], capture_output=True, text=True, timeout=60)
    expect_eq((p.returncode, p.stderr), (0, ""), f"-l {glob}")
    # without the addresses
    return sorted(set(ln.split(None, 1)[1] for ln in p.stdout.splitlines()))


@each_toolchain
def test_listing_says_what_closures_and_generic_instantiations_are_on_stripped_builds():
    got = _listing(gobin("https", "stripped"), "main.*")
    want = [f"main.main.func1()  # layout only; a closure in main.main{CLOSURE}",
            f"main.routes.func8.1()  # layout only; a closure in main.routes.func8{CLOSURE}",
            f"main.routes.func8({{a0, a1}}, a2)  # layout only; a closure in main.routes{CLOSURE}"]
    for w in want:
        expect_eq(w in got, True, f"{w} in {got}")
    got = _listing(gobin("types", "stripped"), "main.Sum*")
    if go_minor() < 20:
        # Go 1.18 and 1.19 name every instantiation "[...]"
        want = [f"main.Sum[...]({{a0, a1, a2}})  # layout only; {UNNAMED}"]
    else:
        want = [f"main.Sum[go.shape.float64]({{a0, a1, a2}})  # layout only; {SHAPE}",
                f"main.Sum[go.shape.int]({{a0, a1, a2}})  # layout only; {SHAPE}"]
    expect_eq(got, want, "main.Sum instantiations")
    got = _listing(gobin("types", "stripped"), "main.(*Queue[*]).Put")
    if go_minor() >= 20:
        expect_eq(got, [f"main.(*Queue[go.shape.string]).Put(a0, {{a1, a2}})  # layout only; "
                        f"{SHAPE}", f"main.(*Queue[string]).Put({{a0, a1}})  # layout only; "
                        f"{WRAPPER}"], "main.(*Queue[...]).Put")
    # with DWARF the dictionary is a parameter
    got = _listing(gobin("types"), "main.Sum*")
    if go_minor() >= 20:
        expect_eq(got[0], "main.Sum[go.shape.float64](.dict unsafe.Pointer, xs "
                  "[]go.shape.float64) go.shape.float64  # DWARF; generic, shape instantiation: "
                  "it takes a dictionary first (after a method's receiver)", "with DWARF")
