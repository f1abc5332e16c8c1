#!/usr/bin/env bash
# Run the Molecule VM scenarios of cowstack.docker_storage.
#
#   tests/vm/run-scenarios.sh [--ci] [--scenario NAME]... [--platform NAME]... [--keep-going]
#
#   --ci           the subset CI runs (zfs on debian12 and debian13, containerd on debiansid; make molecule-ci)
#   --scenario     run only this scenario (repeatable; default: every molecule/*/molecule.yml)
#   --platform     run only this platform (repeatable; default: the scenario's platforms)
#   --keep-going   run the remaining scenarios after a failure (the exit status still reports it)
#
# Builds the images first (cached, seconds when nothing changed), then runs
#   molecule test -s SCENARIO --platform-name PLATFORM
# one platform at a time (two qemu TCG guests at once only halve the speed of each on 2 cores),
# prints the time each took and, on any exit, stops every VM it started and checks that no qemu
# process or loop device of this run is left.
#
# Environment: COWSTACK_VENV (default <repo>/.venv), COWSTACK_VM_CACHE (image cache; results.log there lists
# every scenario result with the commit it ran on), COWSTACK_VM_RUN_DIR (VM state and logs of this run; default a
# new /var/tmp/cowstack-vm-run.*).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${COWSTACK_VENV:-$ROOT/.venv}
PROG=run-scenarios

CI=0
KEEP_GOING=0
SCENARIOS=()
PLATFORMS=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --ci) CI=1 ;;
        --keep-going) KEEP_GOING=1 ;;
        --scenario) SCENARIOS+=("${2:?--scenario needs a name}"); shift ;;
        --platform) PLATFORMS+=("${2:?--platform needs a name}"); shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "$PROG: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

die() { echo "$PROG: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (image builds use debootstrap and chroot)"
for c in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils debootstrap:debootstrap ssh:openssh-client; do
    command -v "${c%%:*}" >/dev/null 2>&1 || die "'${c%%:*}' not found: install the Debian package '${c#*:}'"
done
[[ -x $VENV/bin/molecule ]] || die "$VENV/bin/molecule not found: create the venv first (make venv) or set COWSTACK_VENV"
export PATH=$VENV/bin:$PATH
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
export MOLECULE_PROJECT_DIRECTORY=$ROOT

# This checkout as cowstack.docker_storage on the collections path (as `make collection` does).
COLL_LINK=$ROOT/.build/collections/ansible_collections/cowstack/docker_storage
if [[ ! -e $COLL_LINK ]]; then
    mkdir -p "$(dirname "$COLL_LINK")"
    ln -sfn "$ROOT" "$COLL_LINK"
fi

if [[ $CI -eq 1 && ${#SCENARIOS[@]} -eq 0 ]]; then
    SCENARIOS=(zfs containerd)
fi
if [[ ${#SCENARIOS[@]} -eq 0 ]]; then
    for f in "$ROOT"/molecule/*/molecule.yml; do
        SCENARIOS+=("$(basename "$(dirname "$f")")")
    done
fi
[[ ${#SCENARIOS[@]} -gt 0 ]] || die "no scenarios under $ROOT/molecule"

# Platforms of a scenario: its molecule.yml, else the shared .config/molecule/config.yml.
scenario_platforms() {
    "$VENV/bin/python" - "$ROOT/molecule/$1/molecule.yml" "$ROOT/.config/molecule/config.yml" <<'EOF'
import sys, yaml
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except FileNotFoundError:
        continue
    if data.get("platforms"):
        print("\n".join(p["name"] for p in data["platforms"]))
        break
EOF
}

RUN_DIR=${COWSTACK_VM_RUN_DIR:-$(mktemp -d /var/tmp/cowstack-vm-run.XXXXXX)}
mkdir -p "$RUN_DIR/state" "$RUN_DIR/logs"
export COWSTACK_VM_STATE=$RUN_DIR/state

# pids of qemu-system-x86_64 processes (pgrep -x cannot match names over 15 characters).
qemu_pids() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/exe" 2>/dev/null) == */qemu-system-x86_64 ]] && echo "${p#/proc/}"
    done
    return 0
}

descendants() {  # every process below pid $1, deepest first
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$c"
        echo "$c"
    done
}

MOLECULE_PID=
cleanup() {
    local rc=$? d pid left=0
    trap - EXIT INT TERM
    if [[ -n $MOLECULE_PID ]] && kill -0 "$MOLECULE_PID" 2>/dev/null; then
        echo "$PROG: stopping molecule (pid $MOLECULE_PID) and its ansible-playbook" >&2
        for pid in $(descendants "$MOLECULE_PID") "$MOLECULE_PID"; do kill -TERM "$pid" 2>/dev/null || true; done
        for _ in $(seq 30); do kill -0 "$MOLECULE_PID" 2>/dev/null || break; sleep 1; done
        kill -KILL "$MOLECULE_PID" 2>/dev/null || true
    fi
    # Every VM this run started: vm.py stops them by their recorded pid.
    for d in "$COWSTACK_VM_STATE"/*/; do
        [[ -d $d ]] || continue
        python3 "$HERE/vm.py" --state-dir "$d" down --all || true
    done
    # Belt and braces: a qemu whose command line points into this run's state directory is ours.
    for pid in $(qemu_pids); do
        if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "^$COWSTACK_VM_STATE/"; then
            echo "$PROG: stopping leftover qemu pid $pid of this run" >&2
            kill -TERM "$pid" 2>/dev/null || true
            left=1
        fi
    done
    [[ $left -eq 0 ]] || sleep 3
    for pid in $(qemu_pids); do
        if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "^$COWSTACK_VM_STATE/"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    # Loop devices backed by files of this run or of the image cache (the bench itself makes none).
    while read -r dev file; do
        case $file in
            "$RUN_DIR"/*|"${COWSTACK_VM_CACHE:-/var/cache/cowstack-vm}"/*)
                echo "$PROG: detaching leftover loop device $dev ($file)" >&2
                losetup -d "$dev" || true ;;
        esac
    done < <(losetup --noheadings --output NAME,BACK-FILE 2>/dev/null || true)
    left=$(qemu_pids)
    if [[ -n $left ]]; then
        echo "$PROG: note: qemu processes not started by this run are still running (left alone): $left" >&2
    fi
    echo "$PROG: logs in $RUN_DIR/logs" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
SUMMARY=()
FAILED=0

# --- images ----------------------------------------------------------------------------------------
declare -A WANT=()
declare -A SCEN_PLATFORMS=()
for s in "${SCENARIOS[@]}"; do
    [[ -f $ROOT/molecule/$s/molecule.yml ]] || die "no scenario '$s' (molecule/$s/molecule.yml missing)"
    mapfile -t plats < <(scenario_platforms "$s")
    if [[ ${#PLATFORMS[@]} -gt 0 ]]; then
        sel=()
        for p in "${plats[@]}"; do
            for q in "${PLATFORMS[@]}"; do [[ $p == "$q" ]] && sel+=("$p"); done
        done
        plats=("${sel[@]}")
    fi
    SCEN_PLATFORMS[$s]="${plats[*]}"
    for p in "${plats[@]}"; do WANT[$p]=1; done
done
for img in $(printf '%s\n' "${!WANT[@]}" | sort); do
    case $img in debian12|debian13|debiansid) ;; *) continue ;; esac
    t0=$(date +%s)
    bash "$HERE/build-image.sh" "$img" >/dev/null || die "building image $img failed"
    dt=$(( $(date +%s) - t0 ))
    SUMMARY+=("image $img: $(fmt "$dt")")
    echo "$PROG: image $img ready in $(fmt "$dt")"
done

# --- scenarios -------------------------------------------------------------------------------------
cd "$ROOT"
# Every result is also appended to a ledger beside the image cache, with the commit it ran on (and "+dirty" when
# the tree had changes), so a full matrix run over several sittings on one commit can be shown.
LEDGER=${COWSTACK_VM_CACHE:-/var/cache/cowstack-vm}/results.log
COMMIT=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then COMMIT=$COMMIT+dirty; fi
for s in "${SCENARIOS[@]}"; do
    for p in ${SCEN_PLATFORMS[$s]}; do
        log=$RUN_DIR/logs/$s-$p.log
        echo "$PROG: === molecule test -s $s --platform-name $p (log: $log)"
        t0=$(date +%s)
        rc=0
        # Molecule keeps one ephemeral directory (inventory, instance config) per scenario: give each
        # run and platform its own, so concurrent runs of one scenario cannot overwrite each other's.
        # In the background and waited for, so that INT/TERM reach the trap at once (bash defers
        # traps while a foreground command runs); the trap then stops molecule and the VMs.
        MOLECULE_EPHEMERAL_DIRECTORY=$RUN_DIR/molecule/$s-$p COWSTACK_FAULTS_REPORT=$RUN_DIR/logs/$s-$p.faults.json \
            molecule test -s "$s" --platform-name "$p" > >(tee "$log") 2>&1 &
        MOLECULE_PID=$!
        wait "$MOLECULE_PID" || rc=$?
        MOLECULE_PID=
        dt=$(( $(date +%s) - t0 ))
        if [[ $rc -eq 0 ]]; then
            SUMMARY+=("scenario $s on $p: passed in $(fmt "$dt")")
        else
            SUMMARY+=("scenario $s on $p: FAILED (exit $rc) after $(fmt "$dt")")
            FAILED=1
        fi
        echo "$PROG: === $s on $p: exit $rc after $(fmt "$dt")"
        printf '%s %s %s %s %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$COMMIT" "$s" "$p" \
            "$([[ $rc -eq 0 ]] && echo passed || echo "FAILED($rc)")" "$dt" >> "$LEDGER" 2>/dev/null || true
        if [[ $rc -ne 0 && $KEEP_GOING -eq 0 ]]; then break 2; fi
    done
done

echo
echo "$PROG: summary"
printf '  %s\n' "${SUMMARY[@]}"
exit "$FAILED"
