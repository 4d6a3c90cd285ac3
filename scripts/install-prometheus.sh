#!/usr/bin/env bash
# Installs Debian's `prometheus` package for the dashboards' and alert rules' checks: `promtool test rules`
# runs deploy/prometheus/rules.test.yml (test/dashboards/), and `make up` with FLEETOPS_STACK_PROMETHEUS=1
# starts /usr/bin/prometheus scraping the stack. Idempotent: when both binaries run, nothing is installed.
# Needs root (or passwordless sudo) and apt-get; a failure names the reason and exits non-zero.
set -euo pipefail

fail() { echo "install-prometheus: $1" >&2; exit 1; }
say() { echo "install-prometheus: $*"; }

PROMETHEUS=/usr/bin/prometheus
PROMTOOL=/usr/bin/promtool

runs() { [ -x "$PROMETHEUS" ] && [ -x "$PROMTOOL" ] && "$PROMETHEUS" --version >/dev/null 2>&1 && "$PROMTOOL" --version >/dev/null 2>&1; }

if runs; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available: install Debian's prometheus package by hand"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  fail "root or passwordless sudo is needed to apt-get install prometheus"
fi

# The package's postinst starts a system Prometheus service where an init system runs; the stack runs
# its own (stack/prometheus.ts) on a port of its own, so the service is neither needed nor in the way.
say "apt-get install prometheus (first time only, a minute or so)"
"${SUDO[@]}" apt-get update -qq || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends prometheus \
  || fail "apt-get install prometheus failed"
runs || fail "$PROMETHEUS or $PROMTOOL does not run after installing the package"
say "$("$PROMETHEUS" --version | head -1)"
