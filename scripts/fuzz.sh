#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each.
# Usage: scripts/fuzz.sh [DURATION]   (default 10s)
set -euo pipefail
t="${1:-10s}"
cd "$(dirname "$0")/.."
status=0
for pkg in $(go list -tags migrated_fynedo ./...); do
  dir=$(go list -tags migrated_fynedo -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $pkg $f ($t)"
    go test -tags migrated_fynedo -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" || status=1
  done
done
exit $status
