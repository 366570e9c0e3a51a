#!/usr/bin/env bash
# Integration test under Linux netem: runs Loopback.UnderNetem of the given test binary inside a
# fresh network namespace whose loopback delays, loses, reorders, duplicates and corrupts packets.
#   bash netem_test.sh <client_loopback_test binary>
# Exits 77 (CTest: skipped) with a clear message where namespaces or netem are not available
# (no privileges, or a kernel without the sch_netem module); never fails for that reason.
set -u
bin="$1"
netem="delay 5ms 2ms loss 5% reorder 10% duplicate 2% corrupt 2%"
for prefix in "unshare -rn" "unshare -n"; do
  if $prefix sh -c "ip link set lo up && tc qdisc add dev lo root netem delay 1ms" >/dev/null 2>&1; then
    echo "netem_test: $prefix, lo: netem $netem"
    exec $prefix sh -c "ip link set lo up && tc qdisc add dev lo root netem $netem && AGILENN_NETEM=1 exec '$bin' --gtest_filter=Loopback.UnderNetem"
  fi
done
echo "SKIPPED: cannot make a network namespace with netem here (needs unshare or ip netns, iproute2's tc and the sch_netem kernel module)"
exit 77
