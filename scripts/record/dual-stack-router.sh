#!/usr/bin/env bash
# Dual-stack router (issue 18): rt forwards IPv4 (10.0.3.0/24 -> 192.168.206.0/24) and IPv6
# (fd00:3::/64 -> fd00:206::/64), masquerades both out of eth0 with one inet nat table, and
# filters forwarding with a stateful inet chain (policy drop; established,related accept; new
# from the LAN eth1 accept). Traffic: ping and ping6 (3 each), TCP over both families, and one
# unsolicited UDP datagram from the WAN side per family, dropped by the policy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
DUAL=1
. "$(dirname "$0")/topo6-basic.sh"
C6="$(dirname "$0")/client6.py"
inns rt nft -f - <<'R'
table inet nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}
}
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "eth1" accept
	}
}
R
inns w python3 "$C6" serve 192.168.206.1 80 0 > "$out/server.txt" 2>&1 & SRV4=$!
inns w python3 "$C6" serve fd00:206::1 80 0 > "$out/server6.txt" 2>&1 & SRV6=$!
settle6
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV4 $SRV6 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. ping 10.0.3.1 -> 192.168.206.1 (3 echoes, id 0x4242)"
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 3 16962
  echo "# 2. ping6 fd00:3::1 -> fd00:206::1 (3 echoes, id 0x4343)"
  inns c python3 "$CRAFT" ping6 fd00:3::1 fd00:206::1 3 17219
  echo "# 3. tcp 10.0.3.1:43000 -> 192.168.206.1:80"
  inns c python3 "$C6" tcp 10.0.3.1 43000 192.168.206.1 80
  echo "# 4. tcp [fd00:3::1]:43001 -> [fd00:206::1]:80"
  inns c python3 "$C6" tcp fd00:3::1 43001 fd00:206::1 80
  echo "# 5. unsolicited from the WAN side (dropped by the forward policy): udp 192.168.206.1:40999 -> 10.0.3.1:9, udp [fd00:206::1]:40999 -> [fd00:3::1]:9"
  inns w python3 -c '
import socket
for f,s,d in ((socket.AF_INET,"192.168.206.1","10.0.3.1"),(socket.AF_INET6,"fd00:206::1","fd00:3::1")):
  u=socket.socket(f,socket.SOCK_DGRAM); u.bind((s,40999)); u.sendto(b"knock",(d,9)); print("w sent udp",s,"->",d,flush=True)'
  sleep 0.5
} > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out" ipv4
kill $EV $SRV4 $SRV6 2>/dev/null || true; wait $SRV4 $SRV6 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
