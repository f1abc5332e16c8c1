#!/usr/bin/env bash
# ansible-doc must render every plugin and role of the collection (a broken DOCUMENTATION or argument_specs
# fails here): each module (the action plugins are documented by their module stubs), each filter, and
# `ansible-doc -t role` on each role; each must exit 0 and print its own name, and `-l` must list them all.
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=0
render() {  # TYPE NAME
  local text
  text=$("$bin/ansible-doc" -t "$1" "cowstack.docker_storage.$2") || { echo "ansible-doc -t $1 $2 failed" >&2; exit 1; }
  grep -q "$2" <<< "$text" || { echo "ansible-doc -t $1 $2 does not name it" >&2; exit 1; }
  count=$((count + 1))
}
for file in plugins/modules/*.py; do
  render module "$(basename "$file" .py)"
done
for file in plugins/filter/*.yml; do
  render filter "$(basename "$file" .yml)"
done
for dir in roles/*/; do
  render role "$(basename "$dir")"
done
# every action plugin has its module stub, so it is documented above
for file in plugins/action/*.py; do
  [ -f "plugins/modules/$(basename "$file")" ] || { echo "action $(basename "$file" .py) has no module stub with its docs" >&2; exit 1; }
done
for type in module filter role; do
  case $type in
    module) want=$(ls plugins/modules/*.py | wc -l) ;;
    filter) want=$(ls plugins/filter/*.yml | wc -l) ;;
    role) want=$(ls -d roles/*/ | wc -l) ;;
  esac
  listed=$("$bin/ansible-doc" -t $type -l cowstack.docker_storage | grep -c '^cowstack\.docker_storage\.')
  [ "$listed" -ge "$want" ] || { echo "ansible-doc -t $type -l lists $listed, expected $want" >&2; exit 1; }
done
echo "ansible-doc rendered $count plugins and roles"
