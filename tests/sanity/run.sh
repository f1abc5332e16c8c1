#!/usr/bin/env bash
# ansible-test sanity on a copy of this checkout laid out as ansible_collections/cowstack/docker_storage.
#   tests/sanity/run.sh VENV_BIN PYTHON_VERSION
set -euo pipefail
bin=$1
python=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/.build/sanity-$python"
dest="$work/ansible_collections/cowstack/docker_storage"
rm -rf "$work"
mkdir -p "$dest"
# The files git would ship: tracked plus new, not ignored.
(cd "$root" && git ls-files -z --cached --others --exclude-standard) | \
  (cd "$root" && xargs -0 -I{} cp --parents -- {} "$dest/" 2>/dev/null || true)
# ansible-test bootstraps pip in its venvs with a script it downloads from a host that is not reachable here.
pip_version=$("$bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
mkdir -p ~/.ansible/test/cache
cp "$root/tests/sanity/offline_get_pip.py" ~/.ansible/test/cache/get_pip_${pip_version//./_}.py
cd "$dest"
git init -q . && git add -A >/dev/null
version=$("$bin/ansible" --version | sed -n 1p)
echo "== ansible-test sanity: $version, Python $python"
start=$(date +%s)
"$bin/ansible-test" sanity --venv --python "$python" --color no \
  "${@:3}"
echo "== sanity ($version) passed in $(( $(date +%s) - start )) s"
