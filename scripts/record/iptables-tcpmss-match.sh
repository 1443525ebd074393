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
ip netns exec $(ns w) python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",80)); s.listen(2); s.settimeout(10)
c,_=s.accept(); d=c.recv(100); c.sendall(b"pong:"+d); c.recv(100); c.close()
' & SRV=$!
sleep 0.5
trap 'kill $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. a crafted SYN without options 10.0.3.1:43100 -> 192.168.206.1:80 (no MSS: dropped)"
  inns c python3 "$CRAFT" tcp 10.0.3.1 43100 192.168.206.1 80 S 9000
  sleep 0.3
  echo "# 2. a connection 10.0.3.1:43000 -> 192.168.206.1:80 (SYN and SYN-ACK with MSS 1460: pass)"
  inns c python3 -c '
import socket,time
s=socket.socket(); s.bind(("10.0.3.1",43000)); s.settimeout(5); s.connect(("192.168.206.1",80))
s.sendall(b"ping"); print("tcp got", s.recv(100)); time.sleep(0.2); s.close(); time.sleep(0.5)'
} > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
inns rt iptables-save -c > "$out/iptables-save-c.txt"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
