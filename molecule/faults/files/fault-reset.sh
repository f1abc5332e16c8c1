#!/bin/sh
# Back to the fault suite's starting point: Docker on overlay2 in /var/lib/docker with the images of
# /root/images_before.txt, the daemon.json of /root/daemon.json.before, no pool, no journal, no spool.
set -eu
systemctl stop docker.socket docker.service 2>/dev/null || true
systemctl stop cowstack-fault-holder.path cowstack-fault-holder.service 2>/dev/null || true
pkill -f 'docker (save|load)' 2>/dev/null || true
if zpool list dockerpool >/dev/null 2>&1; then zpool destroy -f dockerpool; fi
disk=/dev/disk/by-id/virtio-cowstack-disk1
for part in "$disk"-part*; do [ -e "$part" ] && zpool labelclear -f "$part" 2>/dev/null || true; done
wipefs -q -a "$disk"-part* 2>/dev/null || true
wipefs -q -a "$disk"
blockdev --rereadpt "$disk" 2>/dev/null || true
udevadm settle
if [ -d /var/lib/docker.cowstack-overlay2 ]; then
    if mountpoint -q /var/lib/docker; then umount /var/lib/docker; fi
    rm -rf /var/lib/docker
    mv /var/lib/docker.cowstack-overlay2 /var/lib/docker
fi
cp /root/daemon.json.before /etc/docker/daemon.json
rm -f /etc/systemd/system/docker.service.d/10-cowstack-storage.conf \
      /etc/systemd/system/docker.service.d/20-cowstack-flags.conf \
      /var/lib/cowstack-docker-storage/switch.json /var/lib/cowstack-docker-storage/hold-docker \
      /etc/docker/daemon.json.*~ /run/cowstack-docker-storage/role.lock
rm -rf /srv/spool/migration /srv/spool/filler /var/lib/docker/volumes.cowstack-partial
systemctl daemon-reload
systemctl reset-failed docker.service docker.socket 2>/dev/null || true
systemctl start docker.socket docker.service
docker image ls --all --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort > /root/images_now.txt
cmp /root/images_now.txt /root/images_before.txt
# on disk before the fault: the guest writes back only what is flushed (prepare.yml), and a cut must find this
sync
