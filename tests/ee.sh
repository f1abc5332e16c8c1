#!/usr/bin/env bash
# The Execution Environment files checked as ansible-builder reads them (no container runtime needed):
#   1. meta/execution-environment.yml against ansible-builder's v3 schema, and bindep.txt by bindep's parser;
#   2. the built tarball installed, then `ansible-builder introspect` on it: the collection's python and system
#      needs are exactly requirements.txt and bindep.txt;
#   3. `ansible-builder create` on the sample definition tests/ee/execution-environment.yml writes its build
#      context (Containerfile or Dockerfile, the galaxy requirements).
#   tests/ee.sh MAIN_VENV_BIN BUILDER_VENV_BIN
set -euo pipefail
bin=$1
builder=$2
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.build/ee"
rm -rf "$out"
mkdir -p "$out"
cd "$root"
"$builder/python" - <<'PY'
import yaml
from ansible_builder.ee_schema import validate_schema
from bindep.depends import Depends

with open("meta/execution-environment.yml") as handle:
    meta = yaml.safe_load(handle)
validate_schema(meta)
assert meta["version"] == 3, meta
assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}, meta
with open("bindep.txt") as handle:
    rules = Depends(handle.read())._rules
assert rules, "bindep.txt lists no package"
print("== meta/execution-environment.yml: v3 schema valid; bindep.txt: %d rules" % len(rules))
PY
"$bin/ansible-galaxy" collection build --force --output-path "$out" > /dev/null
ANSIBLE_COLLECTIONS_PATH="$out/collections" "$bin/ansible-galaxy" collection install --force --no-deps \
  -p "$out/collections" "$out"/*.tar.gz > /dev/null
"$builder/ansible-builder" introspect --sanitize "$out/collections" > "$out/introspect.yml"
"$builder/python" - "$out/introspect.yml" <<'PY'
import sys
import yaml

with open(sys.argv[1]) as handle:
    found = yaml.safe_load(handle.read().split("---", 1)[1])


def wanted(path):
    with open(path) as handle:
        return sorted(line.strip() for line in handle if line.strip() and not line.startswith("#"))


def listed(lines):
    return sorted(line.split("  # from collection")[0].strip() for line in lines or [])


assert listed(found["python"]) == wanted("requirements.txt"), found
assert listed(found["system"]) == wanted("bindep.txt"), found
assert all(line.endswith("# from collection cowstack.docker_storage") for line in found["system"]), found
print("== ansible-builder introspect: python %s, system %s" % (listed(found["python"]), listed(found["system"])))
PY
(cd tests/ee && "$builder/ansible-builder" create -f execution-environment.yml -c "$out/context" > "$out/create.log" 2>&1) || {
  cat "$out/create.log" >&2; echo "ansible-builder create failed" >&2; exit 1; }
[ -e "$out/context/Containerfile" ] || [ -e "$out/context/Dockerfile" ] || { echo "no Containerfile in $out/context" >&2; exit 1; }
grep -q "cowstack.docker_storage" "$out/context/_build/requirements.yml"
echo "== ansible-builder create: build context in $out/context"
