#!/usr/bin/env bash
# Fails if a server the test suite started outlived it (Temporal CLI dev server, the JVM time-skipping
# server, moto). `make test` exports FLEETOPS_TEST_RUN_ID and every process the run spawns inherits
# it, so only this run's processes are counted, not a `make up` stack running beside it.
# With FLEETOPS_TREE_BEFORE (the tree's state when `make test` began, scripts/tree-state.sh) it also
# fails if the run changed the git tree: on a fresh clone a test run must leave `git status` clean.
set -u
id=${FLEETOPS_TEST_RUN_ID:?FLEETOPS_TEST_RUN_ID is not set}
sleep 1
left=""
for env in /proc/[0-9]*/environ; do
  pid=${env#/proc/}; pid=${pid%/environ}
  [ "$pid" = "$$" ] && continue
  if tr '\0' '\n' 2>/dev/null <"$env" | grep -qx "FLEETOPS_TEST_RUN_ID=$id"; then
    comm=$(cat "/proc/$pid/comm" 2>/dev/null)
    case "$comm" in
      java|temporal|python*|moto_server|node) left+="$pid $comm $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-160)"$'\n' ;;
    esac
  fi
done
rc=0
if [ -n "${FLEETOPS_TREE_BEFORE:-}" ]; then
  after=$(mktemp)
  "$(dirname "$0")/tree-state.sh" >"$after"
  if ! diff -u "$FLEETOPS_TREE_BEFORE" "$after" >&2; then
    echo "check-no-leftovers: the test run changed the git tree (diff above: - before, + after); tests and installs must write only to ignored paths" >&2
    rc=1
  else
    echo "check-no-leftovers: the git tree is as the run found it"
  fi
  rm -f "$after"
fi
if [ -n "$left" ]; then
  echo "check-no-leftovers: processes of this test run still running:" >&2
  printf '%s' "$left" >&2
  exit 1
fi
echo "check-no-leftovers: no java, temporal, moto or node process of this test run is left running"
exit $rc
