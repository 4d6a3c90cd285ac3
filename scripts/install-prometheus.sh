#!/usr/bin/env bash
# Installs Debian's `prometheus` package for the dashboards' and alert rules' checks: `promtool test rules`
# runs deploy/prometheus/rules.test.yml (test/dashboards/), and `make up` with FLEETOPS_STACK_PROMETHEUS=1
# starts /usr/bin/prometheus scraping the stack. Idempotent; needs root or passwordless sudo
# (scripts/install-debian-package.sh). The package's postinst starts a system Prometheus service where an
# init system runs; the stack runs its own (stack/prometheus.ts) on a port of its own, so that one is
# neither needed nor in the way.
exec "$(dirname "$0")/install-debian-package.sh" prometheus /usr/bin/prometheus /usr/bin/promtool
