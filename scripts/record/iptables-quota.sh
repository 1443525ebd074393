#!/usr/bin/env bash
# -m quota (xt_quota.c quota_mt): pings through a FORWARD chain whose ICMP quota of 600 bytes
# runs out mid-way (requests and replies spend it alike), and UDP datagrams dropped once an
# inverted quota of 100 bytes no longer covers them. Which packets leave rt is what natsim must reproduce.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt iptables-restore <<'R'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p icmp -m quota --quota 600 -j ACCEPT
-A FORWARD -p icmp -j DROP
-A FORWARD -p udp -m quota ! --quota 100 -j DROP
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
udp_sink w 192.168.206.1 9 & SRV=$!
sleep 0.5
trap 'kill $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. 5 pings 10.0.3.1 -> 192.168.206.1 (84 bytes each way): the quota covers 7 datagrams, then none"
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 5 16962
  echo "# 2. 4 UDP datagrams of 40 bytes 10.0.3.1:40009 -> 192.168.206.1:9: ! --quota 100 drops those it no longer covers"
  inns c python3 -c '
import socket,time
v=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); v.bind(("10.0.3.1",40009))
for i in range(4): v.sendto(b"discard-%d" % i + b"..", ("192.168.206.1",9)); time.sleep(0.1)
print("udp sent")'
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot_counted rt "$out"
kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
