#!/usr/bin/env bash
# A README demo, end to end: the script with this build's pgparity must exit 0 and print the lines that
# tell its story (usage: demo_test.sh PGPARITY_BINARY SOURCE_DIR SCRIPT EXPECTED_LINE...).
set -euo pipefail
bin=$1
source_dir=$2
script=$3
shift 3
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! PGPARITY_DEMO_BIN=$bin "$source_dir/scripts/$script" >"$log" 2>&1; then
  cat "$log"
  echo "demo_test: scripts/$script failed" >&2
  exit 1
fi
for line in "$@"; do
  if ! grep -qF -- "$line" "$log"; then
    cat "$log"
    echo "demo_test: scripts/$script no longer prints: $line" >&2
    exit 1
  fi
done
echo "demo_test: scripts/$script ran end to end ($(wc -l <"$log") lines)"
