#!/bin/bash
# Runs inside the proof VM (scripts/vm-proof.sh) as the vm-proof-agent unit: the host's only way
# to run commands in the guest. The host drops numbered job scripts into the 9p share
# (/proof/jobs/NNN-name.sh, written beside and renamed, so a job is never read half-written);
# each runs once, in name order, as root, and leaves NNN-name.out and NNN-name.rc in
# /proof/results. The agent starts again at every boot, so jobs survive the guest's reboots: a
# job that was started but has no rc when the agent starts was cut short by a reboot (the reboot
# job itself); it gets rc 0 and the host's next job checks what the reboot left.
set -u
jobs=/proof/jobs
results=/proof/results
mkdir -p "$results"
echo "vm-proof-agent: boot $(cat /proc/sys/kernel/random/boot_id)" >/dev/console

while :; do
  for job in "$jobs"/*.sh; do
    [ -e "$job" ] || continue
    name=$(basename "$job" .sh)
    [ -e "$results/$name.rc" ] && continue
    if [ -e "$results/$name.started" ]; then
      echo 0 >"$results/$name.rc"
      continue
    fi
    : >"$results/$name.started"
    sync
    (cd /proof && bash "$job") >"$results/$name.out" 2>&1 </dev/null
    rc=$?
    echo "$rc" >"$results/$name.rc.tmp"
    mv "$results/$name.rc.tmp" "$results/$name.rc"
    echo "vm-proof-agent: $name exited $rc" >/dev/console
  done
  sleep 0.5
done
