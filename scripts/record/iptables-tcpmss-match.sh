#!/usr/bin/env bash
# -m tcpmss (xt_tcpmss.c tcpmss_mt): `-p tcp --syn -m tcpmss ! --mss 536:1460 -j DROP` on a
# router drops a crafted SYN without options (no MSS option: only the inverted match matches) and
# lets a socket's SYN with MSS 1460 through.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt iptables-restore <<'R'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m tcpmss ! --mss 536:1460 -j DROP
-A FORWARD -p tcp -m tcpmss --mss 1460 -j ACCEPT
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
tcp_pong w 192.168.206.1 80 & SRV=$!
sleep 0.5
trap 'kill $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. a crafted SYN without options 10.0.3.1:43100 -> 192.168.206.1:80 (no MSS: dropped)"
  inns c python3 "$CRAFT" tcp 10.0.3.1 43100 192.168.206.1 80 S 9000
  sleep 0.3
  echo "# 2. a connection 10.0.3.1:43000 -> 192.168.206.1:80 (SYN and SYN-ACK with MSS 1460: pass)"
  tcp_ping c 10.0.3.1 43000 192.168.206.1 80
} > "$out/client.txt" 2>&1
stop_capture
snapshot_counted rt "$out"
kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
