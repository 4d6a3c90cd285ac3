#!/usr/bin/env bash
# Installs Debian's `chromium` package for the Web UI browser test (test/ui/), driven by playwright-core
# at /usr/bin/chromium. Idempotent: when /usr/bin/chromium runs, nothing is installed.
# Needs root (or passwordless sudo) and apt-get; a failure names the reason and exits non-zero.
set -euo pipefail

fail() { echo "install-chromium: $1" >&2; exit 1; }
say() { echo "install-chromium: $*"; }

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ] && "$CHROMIUM" --version >/dev/null 2>&1; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available: install Debian's chromium package by hand"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  fail "root or passwordless sudo is needed to apt-get install chromium"
fi

say "apt-get install chromium (first time only, a minute or two)"
"${SUDO[@]}" apt-get update -qq || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium \
  || fail "apt-get install chromium failed"
"$CHROMIUM" --version >/dev/null 2>&1 || fail "$CHROMIUM does not run after installing the package"
say "$("$CHROMIUM" --version)"
