#!/usr/bin/env bash
# Prints the git tree's state: every changed, added or untracked (not ignored) path with a hash of its
# content. `make test` takes it before it runs and check-no-leftovers.sh after, so a run that changes
# the tree (a rewritten lockfile, a stray artifact outside the ignored folders) fails.
set -euo pipefail
cd "$(dirname "$0")/.."
git status --porcelain=v1 --untracked-files=all -z | tr '\0' '\n' | while IFS= read -r line; do
  [ -z "$line" ] && continue
  path=${line:3}
  if [ -f "$path" ]; then echo "$line $(sha256sum "$path" | cut -c1-16)"; else echo "$line"; fi
done
