#!/usr/bin/env bash
# DNAT66 port forward (issue 18): rt forwards TCP to its WAN address fd00:206::250 port 80 to the
# LAN server [fd00:3::2]:8080 (nft ip6 nat prerouting, no masquerade: the server sees the WAN
# client's own address). The WAN host w opens 3 connections to [fd00:206::250]:80, then one to
# port 81, which has no rule and no listener on rt (rt answers with a reset).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo6-basic.sh"
C6="$(dirname "$0")/client6.py"
inns rt nft -f - <<'R'
table ip6 nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip6 daddr fd00:206::250 tcp dport 80 dnat to [fd00:3::2]:8080
	}
}
R
inns c python3 "$C6" serve fd00:3::2 8080 0 3 > "$out/server.txt" 2>&1 & SRV=$!
settle6
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp -f ipv6 > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  for p in 41001 41002 41003; do
    echo "# tcp [fd00:206::1]:$p -> [fd00:206::250]:80 (DNAT to [fd00:3::2]:8080)"
    inns w python3 "$C6" tcp fd00:206::1 $p fd00:206::250 80
  done
  echo "# tcp [fd00:206::1]:41004 -> [fd00:206::250]:81 (no rule, nothing listens on rt)"
  inns w python3 "$C6" tcp fd00:206::1 41004 fd00:206::250 81 2>&1 | tail -1
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
