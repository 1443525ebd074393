#!/usr/bin/env bash
# IPv6 masquerade router (issue 18): rt masquerades the LAN fd00:3::/64 out of eth0 (WAN
# fd00:206::/64). OUT [nft|ip6tables]: nft `table ip6 nat` (ip6-masq-router) or
# `ip6tables -t nat -A POSTROUTING -o eth0 -j MASQUERADE` with ip6tables-nft (ip6tables-masq).
# Traffic from the client c: 3 ICMPv6 echoes, a TCP connection, a UDP request/response, a UDP
# datagram to a closed port on w (port unreachable de-NATed), one with hop limit 1 (rt answers
# time exceeded) and one to a WAN address nobody has (rt answers address unreachable after NDP fails).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mode=${2:-nft}; mkdir -p "$out"
. "$(dirname "$0")/topo6-basic.sh"
C6="$(dirname "$0")/client6.py"
case $mode in
nft) inns rt nft -f - <<'R'
table ip6 nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}
}
R
;;
ip6tables) inns rt ip6tables -t nat -A POSTROUTING -o eth0 -j MASQUERADE ;;
*) echo "mode nft or ip6tables" >&2; exit 2;;
esac
inns w python3 "$C6" serve fd00:206::1 80 53 > "$out/server.txt" 2>&1 & SRV=$!
settle6
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp -f ipv6 > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. ping6 fd00:3::1 -> fd00:206::1 (3 echoes, id 0x4242)"
  inns c python3 "$CRAFT" ping6 fd00:3::1 fd00:206::1 3 16962
  echo "# 2. tcp [fd00:3::1]:43000 -> [fd00:206::1]:80"
  inns c python3 "$C6" tcp fd00:3::1 43000 fd00:206::1 80
  echo "# 3. udp [fd00:3::1]:40053 -> [fd00:206::1]:53"
  inns c python3 "$C6" udp fd00:3::1 40053 fd00:206::1 53
  echo "# 4. udp [fd00:3::1]:40001 -> [fd00:206::1]:9 (closed: port unreachable from w, de-NATed by rt)"
  inns c python3 "$C6" udp-err fd00:3::1 40001 fd00:206::1 9
  sleep 0.3
  echo "# 5. udp [fd00:3::1]:40003 -> [fd00:206::1]:9 with hop limit 1 (rt answers time exceeded)"
  inns c python3 "$C6" udp-err fd00:3::1 40003 fd00:206::1 9 1
  sleep 0.3
  echo "# 6. udp [fd00:3::1]:40005 -> [fd00:206::99]:9 (nobody: NDP fails, rt answers address unreachable)"
  inns c python3 "$C6" udp-err fd00:3::1 40005 fd00:206::99 9 0 6
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out"
[ $mode = ip6tables ] && inns rt ip6tables-save > "$out/ip6tables-save.txt"
kill $EV $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
