#!/usr/bin/env bash
# Installs one Debian package whose binaries the tests or the stack run: `install-debian-package.sh
# <package> <binary>...`. Idempotent: when every binary runs (`--version`), nothing is installed.
# Needs root (or passwordless sudo) and apt-get; a failure names the reason and exits non-zero.
# scripts/install-chromium.sh and scripts/install-prometheus.sh call it with their package.
set -euo pipefail

PACKAGE=${1:?usage: install-debian-package.sh <package> <binary>...}
shift
[ $# -gt 0 ] || { echo "install-debian-package: name at least one binary of $PACKAGE" >&2; exit 2; }
BINARIES=("$@")

fail() { echo "install-$PACKAGE: $1" >&2; exit 1; }
say() { echo "install-$PACKAGE: $*"; }

runs() {
  local b
  for b in "${BINARIES[@]}"; do
    [ -x "$b" ] && "$b" --version >/dev/null 2>&1 || return 1
  done
}

if runs; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available: install Debian's $PACKAGE package by hand"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  fail "root or passwordless sudo is needed to apt-get install $PACKAGE"
fi

say "apt-get install $PACKAGE (first time only, a minute or two)"
"${SUDO[@]}" apt-get update -qq || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$PACKAGE" \
  || fail "apt-get install $PACKAGE failed"
runs || fail "${BINARIES[*]} do not run after installing the package"
say "$("${BINARIES[0]}" --version 2>&1 | head -1)"
