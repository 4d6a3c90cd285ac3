#!/usr/bin/env bash
# Installs Debian's `chromium` package for the Web UI browser test (test/ui/), driven by playwright-core
# at /usr/bin/chromium. Idempotent; needs root or passwordless sudo (scripts/install-debian-package.sh).
exec "$(dirname "$0")/install-debian-package.sh" chromium /usr/bin/chromium
