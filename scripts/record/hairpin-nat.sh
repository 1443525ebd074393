#!/usr/bin/env bash
# Hairpin NAT (NAT loopback) on a router with one LAN port: c (10.0.3.1) and the server s
# (10.0.3.2) share a switch (bridge br0 in namespace sw) with rt's eth1 (10.0.3.254); rt DNATs
# tcp 192.168.206.250:8080 (its WAN address) to 10.0.3.2:80. HAIRPIN_MASQ=1 (the default) adds
# the hairpin masquerade (`ip saddr 10.0.3.0/24 ip daddr 10.0.3.2 tcp dport 80 ct status dnat
# masquerade`), HAIRPIN_MASQ=0 leaves it out. send_redirects is the kernel's default (1): the
# DNATed packet leaves by the interface it came in on, toward a host on the sender's own subnet,
# which is what ip_route_input marks for an ICMP redirect (IPSKB_DOREDIRECT).
#   1. w (192.168.206.1) connects to 192.168.206.250:8080 from the WAN: a plain port forward.
#   2. c connects to 192.168.206.250:8080 from the LAN: the hairpin, twice (two connections).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
HAIRPIN_MASQ=${HAIRPIN_MASQ:-1}
. "$(dirname "$0")/topo-switch.sh"
HAIRPIN=
[ "$HAIRPIN_MASQ" = 1 ] && HAIRPIN='ip saddr 10.0.3.0/24 ip daddr 10.0.3.2 tcp dport 80 ct status dnat masquerade'
inns rt nft -f - <<R
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 192.168.206.250 tcp dport 8080 dnat to 10.0.3.2:80
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		$HAIRPIN
		ip saddr 10.0.3.0/24 oifname "eth0" masquerade
	}
}
R
inns c sysctl -qw net.ipv4.tcp_syn_retries=2   # bounds a connection that cannot complete
tcp_pong s 10.0.3.2 80 3 & SRV=$!
sleep 0.5
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. w -> 192.168.206.250:8080 (port forward from the WAN)"
  tcp_ping w 192.168.206.1 41000 192.168.206.250 8080 || true
  echo "# 2. c -> 192.168.206.250:8080 (hairpin), twice"
  tcp_ping c 10.0.3.1 42000 192.168.206.250 8080 || true
  tcp_ping c 10.0.3.1 42001 192.168.206.250 8080 || true
  echo "# c's route cache toward 192.168.206.250 (a redirect it took would show here)"
  inns c ip route get 192.168.206.250
} > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"
kill $EV $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
