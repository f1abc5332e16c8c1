"""A stand-in for zfs(8) with its state in $FAKE_ZFS_STATE (JSON): just the commands the snapshot tool and
module run, with zfs's output formats and failure modes (unknown dataset, existing snapshot, held snapshot:
a destroy batch is atomic). Every call is appended to state["calls"]."""
import json
import os
import sys

path = os.environ["FAKE_ZFS_STATE"]
with open(path) as handle:
    state = json.load(handle)
args = sys.argv[1:]
state.setdefault("calls", []).append(args)


def save():
    with open(path, "w") as handle:
        json.dump(state, handle)


def fail(msg, rc=1):
    save()
    sys.stderr.write(msg + "\n")
    sys.exit(rc)


datasets = state.setdefault("datasets", {})
snaps = state.setdefault("snapshots", {})
held = set(state.get("held", []))
if args[:1] == ["list"]:
    target = args[-1]
    if target not in datasets:
        fail("cannot open '%s': dataset does not exist" % target)
    columns = args[args.index("-o") + 1].split(",")
    if "-t" in args and args[args.index("-t") + 1] == "snapshot":
        for name, creation in snaps.get(target, []):
            row = {"name": "%s@%s" % (target, name), "creation": str(creation), "used": "4096", "referenced": "65536"}
            print("\t".join(row[c] for c in columns))
    else:
        row = {"name": target, "type": datasets[target]["type"], "used": str(datasets[target].get("used", 1 << 20)),
               "available": str(datasets[target].get("available", 1 << 30))}
        print("\t".join(row[c] for c in columns))
elif args[:1] == ["snapshot"]:
    for spec in args[1:]:
        if datasets.get(spec.split("@", 1)[0], {}).get("full"):
            fail("cannot create snapshot '%s': out of space" % spec)
    if len(set(spec.split("@", 1)[0] for spec in args[1:])) != len(args[1:]):
        fail("cannot create snapshots : multiple snapshots of same fs not allowed")  # one per dataset per txg
    for spec in args[1:]:
        ds, name = spec.split("@", 1)
        if ds not in datasets:
            fail("cannot open '%s': dataset does not exist" % ds)
        if name in [s[0] for s in snaps.get(ds, [])]:
            fail("cannot create snapshot '%s': dataset already exists" % spec)
        snaps.setdefault(ds, []).append([name, int(state.get("clock", 1700000000))])
elif args[:1] == ["destroy"]:
    if len(args) != 2 or "-r" in args or "-R" in args or "%" in args[1]:
        fail("fake zfs: unexpected destroy %r" % args, 2)
    ds, names = args[1].split("@", 1)
    wanted = names.split(",")
    if any("%s@%s" % (ds, n) in held for n in wanted):
        fail("cannot destroy snapshot: dataset is busy")
    present = [s[0] for s in snaps.get(ds, [])]
    if not any(n in present for n in wanted):
        fail("could not find any snapshots to destroy; check snapshot names.")
    snaps[ds] = [s for s in snaps.get(ds, []) if s[0] not in wanted]
elif args[:1] == ["get"]:
    prop, target = args[-2], args[-1]
    if target not in datasets:
        fail("cannot open '%s': dataset does not exist" % target)
    value = datasets[target].get("props", {}).get(prop, "-")
    print("%s\t%s\t%s\t%s" % (target, prop, value, "local" if value != "-" else "-"))
elif args[:1] == ["set"]:
    prop, value = args[1].split("=", 1)
    datasets[args[2]].setdefault("props", {})[prop] = value
else:
    fail("fake zfs: unsupported %r" % args, 2)
save()
