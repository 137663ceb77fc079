#!/usr/bin/env bash
# The README's first command, end to end: scripts/demo with this build's pgparity must exit 0 and
# print the lines that tell its story (usage: demo_test.sh PGPARITY_BINARY SOURCE_DIR).
set -euo pipefail
bin=$1
source_dir=$2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! PGPARITY_DEMO_BIN=$bin "$source_dir/scripts/demo" >"$log" 2>&1; then
  cat "$log"
  echo "demo_test: scripts/demo failed" >&2
  exit 1
fi
expected=(
  "== pgparity export --target production"
  "rehearsed on staging/orders: ✓"
  "rehearsed on staging/postgres: ✗ update pgparity_test_fails 1.0 → 1.1"
  "staging is unchanged: pgparity_test_fails 1.0"
  "apply: "
  "(exit 0: every managed database matches the manifest)"
  "pgparity_drift_steps"
  "== done: both clusters are removed on exit"
)
for line in "${expected[@]}"; do
  if ! grep -qF -- "$line" "$log"; then
    cat "$log"
    echo "demo_test: scripts/demo no longer prints: $line" >&2
    exit 1
  fi
done
echo "demo_test: scripts/demo ran end to end ($(wc -l <"$log") lines)"
