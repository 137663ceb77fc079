#!/usr/bin/env bash
# The Debian package, as a user gets it: scripts/package builds it; its contents are extracted
# and the binary, the man page and the systemd units are used from there; lintian finds no
# error; and `cmake --install` gives the same layout.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR (the build to package: the suite's own).
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "package_test: $*" >&2; exit 1; }

deb=$(PGPARITY_PACKAGE_NO_BUILD=1 PGPARITY_PACKAGE_BUILD_DIR=$build PGPARITY_PACKAGE_DIR=$work/out \
  "$source_dir/scripts/package" 2>/dev/null | tail -1)
version=$(sed -n 's/^project(pgparity VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
[ "$(basename "$deb")" = "pgparity_${version}_$(dpkg --print-architecture).deb" ] || fail "unexpected file name: $deb"

# Dependencies come from dpkg-shlibdeps: libpq and libpqxx, with versions, without a hand-written list.
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libpq5 libpqxx-6.4 libyaml-cpp0.7 libc6; do
  echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done

root=$work/root
dpkg-deb -x "$deb" "$root"
[ "$("$root/usr/bin/pgparity" --version)" = "pgparity $version" ] || fail "--version of the packaged binary"
for f in usr/share/man/man1/pgparity.1.gz usr/lib/systemd/system/pgparity-reconcile.service \
         usr/lib/systemd/system/pgparity-reconcile.timer usr/share/pgparity/manifest.schema.json \
         usr/share/doc/pgparity/copyright usr/share/doc/pgparity/changelog.gz usr/share/doc/pgparity/gitops.md \
         usr/share/doc/pgparity/examples/staging-mirrors-production.yaml \
         usr/share/doc/pgparity/examples/integrations/prometheus/pgparity-alerts.yml; do
  [ -f "$root/$f" ] || fail "the package lacks /$f"
done

# The man page renders, and it is the CLI's own help (every subcommand has its section).
page=$(MANPAGER=cat MANWIDTH=100 man -l "$root/usr/share/man/man1/pgparity.1.gz" 2>&1)
for sub in $("$root/usr/bin/pgparity" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }'); do
  echo "$page" | grep -q "pgparity $sub" || fail "the man page has no section for $sub"
done
echo "$page" | grep -q -- "--auto-approve" || fail "the man page lacks apply's options"

# The systemd units, verified with the packaged binary in place of /usr/bin/pgparity.
if command -v systemd-analyze >/dev/null; then
  units=$work/units
  mkdir -p "$units"
  sed "s|/usr/bin/pgparity|$root/usr/bin/pgparity|" "$root/usr/lib/systemd/system/pgparity-reconcile.service" \
    >"$units/pgparity-reconcile.service"
  cp "$root/usr/lib/systemd/system/pgparity-reconcile.timer" "$units/"
  if ! out=$(cd "$units" && systemd-analyze verify --man=no pgparity-reconcile.service pgparity-reconcile.timer 2>&1); then
    echo "$out" >&2
    fail "systemd-analyze verify found a problem in the units"
  fi
  [ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify warned"; }
else
  echo "package_test: systemd-analyze not available, units not verified"
fi

# lintian: no errors (warnings, if any, are listed and justified in docs/development.md).
report=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges' || true)
if echo "$report" | grep -q '^E:'; then
  echo "$report" >&2
  fail "lintian reports errors"
fi
echo "$report" | grep '^W:' || true

# cmake --install gives the same files in the same places.
cmake --install "$build" --prefix "$work/installed/usr" >/dev/null
(cd "$root" && find . -type f | sort) >"$work/deb.txt"
(cd "$work/installed" && find . -type f | sort) >"$work/install.txt"
diff -u "$work/deb.txt" "$work/install.txt" || fail "cmake --install and the package differ"
echo "package_test: $(basename "$deb"): $(wc -l <"$work/deb.txt") files, lintian clean"
