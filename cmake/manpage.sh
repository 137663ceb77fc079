#!/usr/bin/env bash
# Writes pgparity's man page from the CLI's own help, so it never drifts from it:
# help2man reads `pgparity --help` and `--version`, and every subcommand's
# --help becomes a section of its own. Usage: manpage.sh PGPARITY_BINARY OUTPUT.1.gz
set -euo pipefail
bin=$1
out=$2
include=$(mktemp)
trap 'rm -f "$include"' EXIT
{
  echo "[COMMANDS]"
  for sub in $("$bin" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }'); do
    echo ".SS \"pgparity $sub\""
    echo ".nf"
    # roff: a leading dot or quote would be read as a request; backslashes as escapes.
    "$bin" "$sub" --help | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
    echo ".fi"
  done
  echo "[SEE ALSO]"
  echo "The documentation in /usr/share/doc/pgparity/ (docs/*.md of the source), and the"
  echo "example manifests and integrations in /usr/share/doc/pgparity/examples/."
} >"$include"
help2man --no-info --section=1 --name="keep PostgreSQL extension topology true to a manifest in git" \
  --include="$include" "$bin" | gzip -9n >"$out"
