#!/usr/bin/env bash
# -m rpfilter (ipt_rpfilter.c rpfilter_mt) as Calico and firewalld's iptables backend use it:
# `-t raw -A PREROUTING -m rpfilter --invert -j DROP`. A segment from the WAN side with a LAN
# source fails the reverse-path check and is dropped; the same from the WAN's own address passes.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt iptables-restore <<'R'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -m rpfilter --invert -j DROP
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
start_capture rt "$out"
{
  echo "# 1. ping 10.0.3.1 -> 192.168.206.1: its source routes back by eth1, where it came in (passes both ways)"
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 2 16962
  echo "# 2. from the WAN side a TCP ACK 10.0.3.7:41000 -> 10.0.3.1:22 with a LAN source (the route back leaves by eth1: dropped), the same from 192.168.206.1 (passes)"
  inns w python3 "$CRAFT" tcp 10.0.3.7 41000 10.0.3.1 22 A 5000
  inns w python3 "$CRAFT" tcp 192.168.206.1 41000 10.0.3.1 22 A 5000
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot_counted rt "$out"
finish "$out"
