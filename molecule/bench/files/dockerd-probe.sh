#!/usr/bin/env bash
# dockerd-probe.sh NAME DATA_ROOT [DOCKERD-ARGS...]
# Start a second dockerd beside the system one, on DATA_ROOT with its own exec-root, socket and
# pid file. Prints its storage driver and exits 0 once it answers; exits 3 with dockerd's log on
# stderr when dockerd exits instead. Always stops (by pid) the dockerd it started and removes
# DATA_ROOT and its run directory again.
set -euo pipefail
name=$1 data_root=$2
shift 2
run=/run/cowstack-probe-$name
sock=unix://$run/docker.sock
rm -rf "$run"
mkdir -p "$run" "$data_root"
# An empty configuration: the host's daemon.json (which may set storage-driver) must not clash with -s.
echo '{}' > "$run/daemon.json"

dockerd --config-file "$run/daemon.json" --data-root "$data_root" --exec-root "$run/exec" -H "$sock" --pidfile "$run/dockerd.pid" \
    --iptables=false --ip-masq=false --bridge=none \
    --containerd=/run/containerd/containerd.sock \
    --containerd-namespace "cowstack-probe-$name" --containerd-plugins-namespace "cowstack-probe-$name-plugins" \
    "$@" >"$run/dockerd.log" 2>&1 &
pid=$!

cleanup() {
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    # Anything dockerd left mounted below its directories, deepest first.
    awk -v a="$data_root" -v b="$run" 'index($5, a "/") == 1 || $5 == a || index($5, b "/") == 1 { print $5 }' \
        /proc/self/mountinfo | sort -r | while read -r mp; do umount "$mp" 2>/dev/null || umount -l "$mp" || true; done
    rm -rf --one-file-system "$data_root" "$run"
}
trap cleanup EXIT

for _ in $(seq 240); do
    if ! kill -0 "$pid" 2>/dev/null; then
        rc=0
        wait "$pid" || rc=$?
        echo "dockerd exited with status $rc:" >&2
        cat "$run/dockerd.log" >&2
        exit 3
    fi
    driver=$(docker -H "$sock" info 2>/dev/null | sed -n 's/^ *Storage Driver: *//p' || true)
    if [[ -n $driver ]]; then
        echo "$driver"
        exit 0
    fi
    sleep 1
done
echo "dockerd neither answered nor exited in 240s:" >&2
cat "$run/dockerd.log" >&2
exit 4
