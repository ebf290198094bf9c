#!/usr/bin/env bash
# Capture REAL guest-side virsh outputs (qemu-guest-agent, virtio-balloon statistics) from the hot-plug
# test guest (scripts/guest-os) into test/fixtures/hotplug/MACHINE/. Boots its own VM
# numaplace-test-gos-capture (1 of 2 vCPUs, no burner), hot-plugs a vCPU and a 128 MiB dimm, and removes
# the VM at the end. Re-run only when the parsers need new material.
set -euo pipefail
cd "$(dirname "$0")/.."
URI="${NUMAPLACE_URI:-qemu:///system}"
M="${NUMAPLACE_FIXTURE_MACHINE:-debian12-libvirt9-tcg}"
OUT=test/fixtures/hotplug/$M
N=numaplace-test-gos-capture
LOGDIR=/var/log/numaplace-guest
mkdir -p "$OUT" "$LOGDIR"
v() { virsh -q -c "$URI" "$@"; }
cap() { local f="$OUT/$1"; shift; virsh -c "$URI" "$@" >"$f"; }
cleanup() { v destroy "$N" >/dev/null 2>&1 || true; v undefine "$N" >/dev/null 2>&1 || true; rm -f "$LOGDIR/$N.log"; }
trap cleanup EXIT
cleanup
mapfile -t img < <(scripts/guest-os/build.sh)
xml=$(mktemp /tmp/numaplace-gos.XXXXXX.xml)
scripts/guest-os/domain-xml.sh "$N" "$LOGDIR/$N.log" "${img[0]}" "${img[1]}" 1 2 >"$xml"
v define "$xml" >/dev/null; rm -f "$xml"
v start "$N" >/dev/null
wait_for() { # DESCRIPTION COMMAND...: poll up to 180 s
  local what=$1 i; shift
  for i in $(seq 360); do if "$@" >/dev/null 2>&1; then return 0; fi; sleep 0.5; done
  echo "capture-guest-fixtures: timed out waiting for $what" >&2; tail -5 "$LOGDIR/$N.log" >&2; exit 1
}
last() { grep '^NPGUEST' "$LOGDIR/$N.log" | tail -n1; }
wait_for "the agent" sh -c "virsh -c '$URI' dumpxml '$N' | grep -q \"state='connected'\""
wait_for "balloon statistics" sh -c "virsh -c '$URI' domstats --balloon '$N' | grep -q balloon.usable"
cap dumpxml-agent-connected-live.xml dumpxml "$N"
cap guestvcpus-1-of-2.txt guestvcpus "$N"
cap domstats-guest-balloon.txt domstats --raw --state --vcpu --cpu-total --balloon "$N"
v setvcpus "$N" 2 --live
wait_for "vCPU 1 online in the guest" sh -c "grep '^NPGUEST' '$LOGDIR/$N.log' | tail -n1 | grep -q 'online=0-1 '"
cap guestvcpus-2-online.txt guestvcpus "$N"
v guestvcpus "$N" --cpulist 1 --disable
cap guestvcpus-2-vcpu1-offline.txt guestvcpus "$N"
before=$(last | sed -n 's/.* memtotal=\([0-9]*\) .*/\1/p')
dimm=$(mktemp /tmp/numaplace-dimm.XXXXXX.xml)
echo "<memory model='dimm'><target><size unit='MiB'>128</size><node>1</node></target></memory>" >"$dimm"
v attach-device "$N" "$dimm" --live >/dev/null; rm -f "$dimm"
wait_for "the dimm onlined (MemTotal $before KiB + 131072)" sh -c "grep '^NPGUEST' '$LOGDIR/$N.log' | tail -n1 | grep -q 'memtotal=$((before + 131072)) '"
sleep 3   # a fresh balloon statistics period
cap domstats-guest-balloon-after-dimm.txt domstats --raw --state --vcpu --cpu-total --balloon "$N"
grep -E '^(NPGUEST|NPRULE)' "$LOGDIR/$N.log" | sed -n '1p; /NPRULE/p; $p' >"$OUT/guest-console-report.txt"
echo "captured into $OUT" >&2
