#!/usr/bin/env bash
# nft's presence tests (boolean_type `exists` / `missing`): firewalld's reverse-path filter
# `fib saddr . mark . iif oif missing drop` (NFTA_FIB_F_PRESENT) at prerouting, and
# `tcp option maxseg missing` / `tcp option timestamp exists` on SYNs at forward. A spoofed
# segment from the WAN side with a LAN source, and a crafted SYN without options, are dropped.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt nft -f - <<'R'
table inet t {
	chain prerouting {
		type filter hook prerouting priority raw + 10; policy accept;
		meta nfproto ipv4 fib saddr . mark . iif oif missing drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		tcp flags syn tcp option maxseg missing drop
		tcp flags syn tcp option timestamp exists accept
	}
}
R
ip netns exec $(ns w) python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",80)); s.listen(2); s.settimeout(10)
c,_=s.accept(); d=c.recv(100); c.sendall(b"pong:"+d); c.recv(100); c.close()
' & SRV=$!
sleep 0.5
trap 'kill $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. ping 10.0.3.1 -> 192.168.206.1: its source routes back by eth1, where it came in (passes)"
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 2 16962
  echo "# 2. from the WAN side with the LAN source 10.0.3.7, a TCP ACK 10.0.3.7:41000 -> 10.0.3.1:22: the route back leaves by eth1, not eth0 (oif missing: dropped); the same from 192.168.206.1 (passes)"
  inns w python3 "$CRAFT" tcp 10.0.3.7 41000 10.0.3.1 22 A 5000
  inns w python3 "$CRAFT" tcp 192.168.206.1 41000 10.0.3.1 22 A 5000
  sleep 0.3
  echo "# 3. a crafted SYN without options 10.0.3.1:43100 -> :80 (maxseg missing: dropped), then a connection 10.0.3.1:43000 -> :80 (its SYN has mss and TS)"
  inns c python3 "$CRAFT" tcp 10.0.3.1 43100 192.168.206.1 80 S 9000
  sleep 0.3
  inns c python3 -c '
import socket,time
s=socket.socket(); s.bind(("10.0.3.1",43000)); s.settimeout(5); s.connect(("192.168.206.1",80))
s.sendall(b"ping"); print("tcp got", s.recv(100)); time.sleep(0.2); s.close(); time.sleep(0.5)'
} > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
