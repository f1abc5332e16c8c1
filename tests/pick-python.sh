#!/usr/bin/env bash
# Which Python a venv is made with, and which pinned requirements it gets, from the interpreters this machine
# really has (each is run and asked its version: a path that exists is not enough).
#
#   tests/pick-python.sh main   [PYTHON]   .venv: the newest ansible-core the found Python runs
#   tests/pick-python.sh oldest [PYTHON]   .venv-min: the oldest supported ansible-core, for sanity
#
# Prints "PYTHON REQUIREMENTS-FILE" on stdout; a reason on stderr. Exits 1 when nothing fits.
# PYTHON (the Makefile's PY_MAIN / PY_MIN) is used instead of the search, its version still checked.
#
# ansible-core as controller (its Requires-Python, and ansible-test's CONTROLLER_PYTHON_VERSIONS):
#   2.17: 3.10 to 3.12   2.18, 2.19: 3.11 to 3.13   2.20, 2.21: 3.12 to 3.14
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
role=${1:?usage: $0 main|oldest [PYTHON]}
given=${2:-}

version_of() {  # the X.Y an interpreter reports; nothing when it does not run or is a venv's (make's PATH has .venv/bin)
  "$1" -c 'import sys; sys.prefix == sys.base_prefix and print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

candidates() {  # pyenv's builds first (when pyenv is there), then the interpreters on PATH
  local v
  if command -v pyenv >/dev/null 2>&1; then
    for v in "$@"; do
      local prefix
      prefix=$(pyenv prefix "$v" 2>/dev/null) && [ -n "$prefix" ] && echo "$prefix/bin/python3"
    done
  fi
  # every match on PATH, not only the first: make puts .venv/bin (which does not count) before the system's
  for v in 3.13 3.12 3.11 3.10; do type -ap "python$v" 2>/dev/null || true; done
  type -ap python3 2>/dev/null || true
}

# requirements file for ROLE on Python X.Y, or nothing when none fits
requirements_for() {
  case "$1:$2" in
    main:3.12|main:3.13) echo requirements/ci.txt ;;                  # ansible 14, ansible-core 2.21
    main:3.11) echo requirements/ci-py311.txt ;;                      # ansible 12, ansible-core 2.19
    oldest:3.10|oldest:3.11|oldest:3.12) echo requirements/sanity-min.txt ;;  # ansible-core 2.17
    oldest:3.13) echo requirements/sanity-min-py313.txt ;;            # ansible-core 2.18
  esac
}

case $role in
  main) pyenv_versions=(3.13.0) ;;
  oldest) pyenv_versions=(3.11.7) ;;
  *) echo "usage: $0 main|oldest [PYTHON]" >&2; exit 2 ;;
esac

if [ -n "$given" ]; then
  list=("$given")
else
  mapfile -t list <<<"$(candidates "${pyenv_versions[@]}")"
fi

best="" best_req="" best_ver="" seen=()
for py in "${list[@]}"; do
  [ -x "$py" ] || continue
  ver=$(version_of "$py")
  [ -n "$ver" ] || continue
  seen+=("$py ($ver)")
  req=$(requirements_for "$role" "$ver")
  [ -n "$req" ] || continue
  # main: the newest Python wins; oldest: the first that runs ansible-core 2.17, else the 2.18 fallback
  if [ "$role" = oldest ] && [ "$req" = requirements/sanity-min.txt ]; then
    best=$py best_req=$req best_ver=$ver
    break
  fi
  if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best_ver" "$ver" | sort -V | tail -n1)" != "$best_ver" ]; then
    best=$py best_req=$req best_ver=$ver
  fi
done

if [ -z "$best" ]; then
  case $role in
    main) need="Python 3.11 to 3.13 (ansible-core 2.19 on 3.11, 2.21 on 3.12 and 3.13)" ;;
    oldest) need="Python 3.10 to 3.13 (ansible-core 2.17 runs on 3.10 to 3.12)" ;;
  esac
  echo "no Python for the $role venv: it needs $need; found: ${seen[*]:-none} (a venv's interpreter does not count)." \
       "Install python3 (Debian 12 and 13 have one that fits) or set the Makefile's PY_MAIN / PY_MIN." >&2
  exit 1
fi
if [ "$best_req" = requirements/sanity-min-py313.txt ]; then
  why="ansible-core 2.17, the oldest this collection supports, runs on Python 3.10 to 3.12 and this machine has"
  why="$why none of them (found: ${seen[*]})"
  if [ "${CI:-}" = true ]; then
    echo "$why; CI must run the oldest sanity on 2.17: install Python 3.11 (pyenv install 3.11.7)." >&2
    exit 1
  fi
  echo "$why: the oldest sanity runs on ansible-core 2.18 (Python $best_ver) instead." >&2
fi
[ -f "$root/$best_req" ] || { echo "missing $best_req" >&2; exit 1; }
echo "$best $best_req"
