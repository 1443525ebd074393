#!/usr/bin/env bash
# -m iprange (xt_iprange.c iprange_mt4): a router's FORWARD chain drops by source and destination
# ranges, one of them inverted; which packets leave rt is what natsim must reproduce.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt iptables-restore <<'R'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p icmp -m iprange --src-range 10.0.3.2-10.0.3.2 -j DROP
-A FORWARD -p udp -m iprange --dst-range 192.168.206.2-192.168.206.9 -j DROP
-A FORWARD -p udp -m iprange --src-range 10.0.3.1-10.0.3.9 --dst-range 192.168.206.0-192.168.206.1 --sport 40010 -j DROP
-A FORWARD -i eth1 -p tcp -m iprange ! --src-range 10.0.3.1-10.0.3.1 -j DROP
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
tcp_pong w 192.168.206.1 80 & SRV=$!
udp_answer w 192.168.206.1 53 & SRV="$SRV $!"
sleep 0.5
trap 'kill $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. ping from 10.0.3.1 (passes) and 10.0.3.2 (--src-range 10.0.3.2-10.0.3.2: dropped)"
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 2 16962
  inns c python3 "$CRAFT" ping 10.0.3.2 192.168.206.1 2 16963
  echo "# 2. udp 10.0.3.1:40053 -> 192.168.206.1:53 and its answer (outside --dst-range .2-.9), 10.0.3.1:40010 -> :53 (both ranges: dropped)"
  inns c python3 -c '
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("10.0.3.1",40053)); u.settimeout(3)
u.sendto(b"query",("192.168.206.1",53)); print("udp got", u.recvfrom(100))
v=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); v.bind(("10.0.3.1",40010)); v.sendto(b"dropped",("192.168.206.1",53)); print("udp 40010 sent")'
  sleep 0.3
  echo "# 3. tcp SYN from 10.0.3.2 (! --src-range 10.0.3.1-10.0.3.1: dropped), then a connection from 10.0.3.1 (passes)"
  inns c python3 "$CRAFT" tcp 10.0.3.2 43100 192.168.206.1 80 S 9000
  sleep 0.3
  tcp_ping c 10.0.3.1 43000 192.168.206.1 80
} > "$out/client.txt" 2>&1
stop_capture
snapshot_counted rt "$out"
kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
