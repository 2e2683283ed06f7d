#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Install the Debian packages that building, testing and the demo need and
# that are missing. Idempotent; prints nothing when everything is present.
set -e

PKGS="make gcc pkg-config clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev
liblua5.4-dev lua5.4 libcapstone-dev golang-go curl python3 procps iproute2 ca-certificates
libclang-rt-14-dev lua-inspect scdoc man-db dpkg-dev debhelper lintian bash-completion
etcd-server etcd-client"
# libclang-rt-14-dev: libFuzzer for tests/fuzz (clang only recommends it)
# curl: tests/e2e/test_tls.py asks the HTTPS target with --http1.1 and --http2
# (Debian's curl has HTTP/2, through libnghttp2)
# lua-inspect: a pure-Lua module from Debian, which tests/e2e/test_trust.py requires
# scdoc builds the manual page; man-db renders it in the tests; dpkg-dev, debhelper
# and lintian build and check the Debian package; bash-completion runs the completion
# etcd-server, etcd-client: tests/e2e/test_grpc.py traces a real etcd and etcdctl (on
# systemd, installing etcd-server starts its service on 2379; the tests use ports of their own)
# npm fetches real Go binaries of other releases for the tests; any npm will do.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
[ -n "$LUPROBE_EXTRA_PKGS" ] && PKGS="$PKGS $LUPROBE_EXTRA_PKGS"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps: missing packages:$missing; run as root to install them" >&2
		exit 1
	fi
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
