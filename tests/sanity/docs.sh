#!/usr/bin/env bash
# ansible-doc must render every module and filter of the collection (a broken DOCUMENTATION fails here).
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=0
for file in plugins/modules/*.py; do
  name=$(basename "$file" .py)
  "$bin/ansible-doc" -t module "cowstack.docker_storage.$name" > /dev/null
  count=$((count + 1))
done
for file in plugins/filter/*.yml; do
  name=$(basename "$file" .yml)
  "$bin/ansible-doc" -t filter "cowstack.docker_storage.$name" > /dev/null
  count=$((count + 1))
done
listed=$("$bin/ansible-doc" -t module -l cowstack.docker_storage | wc -l)
[ "$listed" -ge "$(ls plugins/modules/*.py | wc -l)" ] || { echo "ansible-doc -l lists $listed modules" >&2; exit 1; }
echo "ansible-doc rendered $count plugins"
