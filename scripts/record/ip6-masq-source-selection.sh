#!/usr/bin/env bash
# Which source address does IPv6 MASQUERADE pick when the WAN interface has several? (issue 18)
# nf_nat_masquerade_ipv6 asks ipv6_dev_get_saddr(out dev, packet's daddr). rt's eth0 has, in
# this order of adding: A fd00:207::250/64, B fd00:206::251/64 preferred_lft 0 (deprecated; the
# only address in the server's subnet), C fd00:208::250/64, D fd00:207::251/64; the LAN eth1 has
# fd00:3::254/64 and fd00:208:fe::254/64. The client c (fd00:3::1) pings and connects to
# w = fd00:206::1 (on-link via B's prefix route) and to fd00:208:ff::1 (on w's lo, routed via w).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
C6="$(dirname "$0")/client6.py"
mkns6 c rt w
link c eth0 rt eth1 ; link rt eth0 w eth0
inns c ip addr add fd00:3::1/64 dev eth0 nodad; inns c ip -6 route add default via fd00:3::254
inns rt ip addr add fd00:3::254/64 dev eth1 nodad
inns rt ip addr add fd00:208:fe::254/64 dev eth1 nodad
inns rt ip addr add fd00:207::250/64 dev eth0 nodad
inns rt ip addr add fd00:206::251/64 dev eth0 nodad preferred_lft 0
inns rt ip addr add fd00:208::250/64 dev eth0 nodad
inns rt ip addr add fd00:207::251/64 dev eth0 nodad
inns rt ip -6 route add fd00:208:ff::/64 via fd00:206::1 dev eth0
inns rt sysctl -qw net.ipv6.conf.all.forwarding=1
inns w ip addr add fd00:206::1/64 dev eth0 nodad; inns w ip addr add fd00:208:ff::1/128 dev lo
inns w ip -6 route add default via fd00:206::251
inns rt nft -f - <<'R'
table ip6 nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}
}
R
inns w python3 "$C6" serve :: 80 0 2 > "$out/server.txt" 2>&1 & SRV=$!
settle6
inns rt ip -6 addr > "$out/ip6-addr-before.txt"
for d in fd00:206::1 fd00:208:ff::1; do inns rt ip -6 route get $d; done > "$out/ip6-route-get.txt"
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp -f ipv6 > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. ping6 fd00:3::1 -> fd00:206::1 (3 echoes, id 0x4242)"
  inns c python3 "$CRAFT" ping6 fd00:3::1 fd00:206::1 3 16962
  echo "# 2. tcp [fd00:3::1]:43000 -> [fd00:206::1]:80"
  inns c python3 "$C6" tcp fd00:3::1 43000 fd00:206::1 80
  echo "# 3. ping6 fd00:3::1 -> fd00:208:ff::1 (3 echoes, id 0x4343)"
  inns c python3 "$CRAFT" ping6 fd00:3::1 fd00:208:ff::1 3 17219
  echo "# 4. tcp [fd00:3::1]:43001 -> [fd00:208:ff::1]:80"
  inns c python3 "$C6" tcp fd00:3::1 43001 fd00:208:ff::1 80
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out"
# after the snapshot, two what-ifs by `ip -6 route get` (same ipv6_dev_get_saddr): B preferred
# again, and a destination routed out of eth0 that matches eth1's fd00:208:fe::254 better
{ echo "# B fd00:206::251 preferred again (preferred_lft forever)"
  inns rt ip addr change fd00:206::251/64 dev eth0 nodad preferred_lft forever; inns rt ip -6 route get fd00:206::1
  echo "# fd00:208:fe:1::/64 routed via fd00:206::1 (63 bits in common with eth1's fd00:208:fe::254, 40 with eth0's fd00:208::250)"
  inns rt ip -6 route add fd00:208:fe:1::/64 via fd00:206::1 dev eth0; inns rt ip -6 route get fd00:208:fe:1::1
} > "$out/ip6-route-get-whatif.txt" 2>&1
kill $EV $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
