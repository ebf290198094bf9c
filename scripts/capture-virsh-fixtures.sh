#!/usr/bin/env bash
# Capture REAL virsh outputs from the test VMs (scripts/hypervisor-up.sh) into test/fixtures/virsh/,
# named after this machine. Changes some pins/shares on the test VMs to make the outputs interesting
# and restores them afterwards. Re-run only when the parsers need new material.
set -euo pipefail
cd "$(dirname "$0")/.."
URI="${NUMAPLACE_URI:-qemu:///system}"
M="${NUMAPLACE_FIXTURE_MACHINE:-debian12-libvirt9-tcg}"
OUT=test/fixtures/virsh
mkdir -p "$OUT/errors"
v() { virsh -c "$URI" "$@"; }
ODD='numaplace-test-it'"'"'s "odd"; $(touch numaplace-pwned) x'
NS=https://numaplace.dev/xmlns/policy/1

cap() { local f="$OUT/$M-$1"; shift; v "$@" >"$f"; }
cap_err() { local f="$OUT/errors/$M-$1"; shift; if v "$@" >/dev/null 2>"$f"; then echo "expected failure: $*" >&2; exit 1; fi; }

# Interesting state: pins, shares, metadata.
v vcpupin numaplace-test-idle --live 0 1 >/dev/null
v vcpupin numaplace-test-idle --config 2 0 >/dev/null
v emulatorpin "$ODD" --live 0 >/dev/null
v schedinfo numaplace-test-numa --live cpu_shares=2048 >/dev/null
v metadata numaplace-test-idle --uri "$NS" --key np --live --config \
  --set '<policy exclude="true" weight="2" class="gold"/>' >/dev/null

cap domstats-running.txt domstats --raw --state --vcpu --cpu-total --balloon
cap list-uuid-name.txt list --all --uuid --name
cap list-persistent-uuid.txt list --all --persistent --uuid
cap vcpupin-idle-live.txt vcpupin numaplace-test-idle
cap vcpupin-idle-config.txt vcpupin numaplace-test-idle --config
cap vcpupin-numa-live.txt vcpupin numaplace-test-numa
cap emulatorpin-default.txt emulatorpin numaplace-test-idle
cap emulatorpin-pinned.txt emulatorpin "$ODD"
cap numatune-strict-default.txt numatune numaplace-test-idle
cap numatune-restrictive.txt numatune numaplace-test-numa
cap schedinfo-live.txt schedinfo numaplace-test-numa
cap schedinfo-config.txt schedinfo numaplace-test-numa --config
cap vcpuinfo-numa.txt vcpuinfo numaplace-test-numa
cap domjobinfo-none.txt domjobinfo numaplace-test-idle
cap dumpxml-idle-live.xml dumpxml numaplace-test-idle
cap dumpxml-odd-live.xml dumpxml "$ODD"
cap freecell-all.txt freecell --all
cap capabilities.xml capabilities
pid=$(cat /run/libvirt/qemu/numaplace-test-idle.pid)
cp "/proc/$pid/numa_maps" "$OUT/$M-numa_maps-idle.txt"

# A dimm on guest node 1 (live only; destroy+start below removes it again).
dimm=$(mktemp /tmp/numaplace-dimm.XXXXXX.xml)
echo "<memory model='dimm'><target><size unit='MiB'>128</size><node>1</node></target></memory>" >"$dimm"
v attach-device numaplace-test-numa "$dimm" --live >/dev/null
cap dumpxml-numa-dimm-live.xml dumpxml numaplace-test-numa
cap domstats-numa-dimm.txt domstats --raw --state --vcpu --cpu-total --balloon numaplace-test-numa
echo "<memory model='dimm'><target><size unit='MiB'>1024</size><node>0</node></target></memory>" >"$dimm"
cap_err attach-over-max.txt attach-device numaplace-test-numa "$dimm" --live
echo "<memory model='dimm'><target><size unit='MiB'>128</size><node>5</node></target></memory>" >"$dimm"
cap_err attach-bad-node.txt attach-device numaplace-test-numa "$dimm" --live
echo "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>" >"$dimm"
cap_err attach-no-maxmemory.txt attach-device numaplace-test-idle "$dimm" --live
rm -f "$dimm"

# Refusals libvirt gives (stderr), for the error classifier.
cap_err numatune-strict-live-nodeset.txt numatune numaplace-test-idle --live --nodeset 0
cap_err numatune-mode-live.txt numatune numaplace-test-numa --live --mode strict
cap_err numatune-node-unavailable.txt numatune numaplace-test-numa --live --nodeset 1
cap_err schedinfo-shares-range.txt schedinfo numaplace-test-idle --live cpu_shares=1
cap_err setvcpus-over-max.txt setvcpus numaplace-test-busy 2 --live
cap_err vcpupin-cpu-too-high.txt vcpupin numaplace-test-idle --live 0 5
cap_err vcpupin-vcpu-out-of-range.txt vcpupin numaplace-test-idle --live 7 0
cap_err domain-not-found.txt vcpupin --domain numaplace-test-no-such-vm
cap_err setvcpus-down-live.txt setvcpus numaplace-test-numa 1 --live
# A whole sampling batch as the backend sends it (one process), with a vanished domain in it.
v "echo @@numaplace-fixture:0@@; vcpupin --domain 'numaplace-test-it'\\''s \"odd\"; \$(touch numaplace-pwned) x'; echo @@numaplace-fixture:1@@; emulatorpin --domain numaplace-test-gone; echo @@numaplace-fixture:2@@; schedinfo --domain numaplace-test-idle; echo @@numaplace-fixture:end@@" \
  >"$OUT/$M-batch-with-gone.stdout.txt" 2>"$OUT/$M-batch-with-gone.stderr.txt"

# Restore.
v metadata numaplace-test-idle --uri "$NS" --live --config --remove >/dev/null
v vcpupin numaplace-test-idle --live 0 0-1 >/dev/null
v vcpupin numaplace-test-idle --config 2 0-1 >/dev/null
v emulatorpin "$ODD" --live 0-1 >/dev/null
v schedinfo numaplace-test-numa --live cpu_shares=1024 >/dev/null
v destroy numaplace-test-numa >/dev/null && v start numaplace-test-numa >/dev/null

# Shut-off and inactive views: the busy VM stopped.
was_running=$(v domstate numaplace-test-busy | head -n1)
[ "$was_running" != running ] || v destroy numaplace-test-busy >/dev/null
cap domstats-with-shutoff.txt domstats --raw --state --vcpu --cpu-total --balloon
cap dumpxml-busy-inactive.xml dumpxml numaplace-test-busy
cap vcpuinfo-shutoff.txt vcpuinfo numaplace-test-busy
cap_err domjobinfo-shutoff.txt domjobinfo numaplace-test-busy
[ "$was_running" != running ] || v start numaplace-test-busy >/dev/null
ls -1 "$OUT" "$OUT/errors"
