#!/usr/bin/env bash
# -m string (xt_string.c string_mt): UDP datagrams through a router whose FORWARD chain drops
# those holding "secret" (bm), "SeCrEt" without case (kmp, --icase), the bytes |de ad be ef| past
# offset 28 (the payload), or "tail" within the first 40 bytes; the others pass.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt iptables-restore <<'R'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p udp -m string --string "secret" --algo bm -j DROP
-A FORWARD -p udp -m string --string "TOP SECRET" --algo kmp --icase -j DROP
-A FORWARD -p udp -m string --hex-string "|deadbeef|" --algo bm --from 28 -j DROP
-A FORWARD -p udp -m string --string "tail" --algo bm --to 40 -j DROP
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
udp_sink w 192.168.206.1 9 & SRV=$!
sleep 0.5
trap 'kill $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# UDP datagrams 10.0.3.1:40009 -> 192.168.206.1:9, one every 0.1 s"
  inns c python3 -c '
import socket,time
v=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); v.bind(("10.0.3.1",40009))
for p in [b"hello", b"a secret here", b"Secret", b"this is top secret", b"\xde\xad\xbe\xef", b"x" * 20 + b"tail", b"tail" + b"y" * 20, b"almost secre", b"\xde\xad\xbe"]:
  v.sendto(p, ("192.168.206.1",9)); print("sent", p); time.sleep(0.1)'
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot_counted rt "$out"
kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
