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
tcp_pong w 192.168.206.1 80 & SRV=$!
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
  tcp_ping c 10.0.3.1 43000 192.168.206.1 80
} > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
