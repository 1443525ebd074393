#!/usr/bin/env bash
# IPv6 REJECT (nf_reject_ipv6): rt masquerades the LAN fd00:3::/64 out of eth0 like
# ip6-masq-router and rejects in an ip6 filter table. FORWARD: tcp/22 with a TCP reset
# (nf_send_reset6), tcp/23 with ICMPv6 admin-prohibited, udp/9 and tcp/25 with the default
# (ICMPv6 port unreachable, nf_send_unreach6); INPUT: tcp/2222 to rt itself with a TCP reset.
# Three datagrams to udp/9 50 ms apart show icmpv6_xrlim_allow's per-peer limit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo6-basic.sh"
C6="$(dirname "$0")/client6.py"
inns rt nft -f - <<'R'
table ip6 nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}
}
table ip6 filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		tcp dport 22 reject with tcp reset
		tcp dport 23 reject with icmpv6 type admin-prohibited
		udp dport 9 reject
		tcp dport 25 reject
	}
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 2222 reject with tcp reset
	}
}
R
settle6
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp -f ipv6 > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. tcp [fd00:3::1]:43022 -> [fd00:206::1]:22 (reject with tcp reset)"
  inns c python3 "$C6" tcp-try fd00:3::1 43022 fd00:206::1 22
  echo "# 2. tcp [fd00:3::1]:43023 -> [fd00:206::1]:23 (reject with icmpv6 admin-prohibited)"
  inns c python3 "$C6" tcp-try fd00:3::1 43023 fd00:206::1 23
  echo "# 3. tcp [fd00:3::1]:43025 -> [fd00:206::1]:25 (reject: port unreachable)"
  inns c python3 "$C6" tcp-try fd00:3::1 43025 fd00:206::1 25
  sleep 0.3
  echo "# 4. udp [fd00:3::1]:40009 -> [fd00:206::1]:9 (reject: port unreachable)"
  inns c python3 "$C6" udp-err fd00:3::1 40009 fd00:206::1 9
  sleep 0.5
  echo "# 5. three udp datagrams to [fd00:206::1]:9 50 ms apart (rate limit per peer)"
  for p in 40011 40012 40013; do inns c python3 "$C6" udp-err fd00:3::1 $p fd00:206::1 9 0 0.05; done
  sleep 0.5
  echo "# 6. tcp [fd00:3::1]:43222 -> [fd00:3::254]:2222 (rt itself, INPUT: reject with tcp reset)"
  inns c python3 "$C6" tcp-try fd00:3::1 43222 fd00:3::254 2222
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out"
kill $EV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
