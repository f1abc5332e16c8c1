#!/usr/bin/env bash
# Build the collection tarball and import it with galaxy-importer as Galaxy would (ansible-test step off:
# tests/galaxy-importer.cfg). Any ERROR or WARNING line fails, so the import stays clean.
#   tests/galaxy-importer.sh MAIN_VENV_BIN IMPORTER_VENV_BIN
set -euo pipefail
bin=$1
imp=$2
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.build/importer"
rm -rf "$out"
mkdir -p "$out"
cd "$root"
"$bin/ansible-galaxy" collection build --force --output-path "$out" > /dev/null
tarball=$(ls "$out"/*.tar.gz)
echo "== galaxy-importer on $(basename "$tarball") ($(tar tzf "$tarball" | grep -vc '/$') files)"
cd "$out"
# ansible-doc and ansible-lint are looked up on PATH: the importer venv's, not the main one's.
set +e
PATH="$imp:$PATH" GALAXY_IMPORTER_CONFIG="$root/tests/galaxy-importer.cfg" \
  "$imp/python" -m galaxy_importer.main "$tarball" > "$out/importer.log" 2>&1
rc=$?
set -e
grep -v -E '^(Loading |$)' "$out/importer.log"
if [ $rc -ne 0 ] || grep -q -E '^(ERROR|WARNING)' "$out/importer.log"; then
  echo "galaxy-importer: not clean (exit $rc; log: $out/importer.log)" >&2
  exit 1
fi
echo "== galaxy-importer: clean"
