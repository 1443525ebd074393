#!/usr/bin/env bash
# ip6tables REDIRECT (nf_nat_redirect_ipv6): rt's eth1 has fd00:3::254 and, added after it,
# fd00:4::254 (listed first: ipv6_link_dev_addr puts the newest of a scope first). LAN TCP to
# port 80 is redirected to rt itself, port 8080, where nothing listens: the SYN's conntrack entry
# shows the address REDIRECT chose (the first usable one of eth1's list for a global
# destination), and rt's TCP stack answers with a reset, de-NATed back to the original
# destination on its way out. The reset kills the entry (tcp_packet: a connection whose only
# reply is a RST), so the choice is seen in conntrack -E (conntrack-E.txt), not -L.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
P=rules6rd$$ # namespace names unique to this recorder
. "$(dirname "$0")/topo6-basic.sh"
C6="$(dirname "$0")/client6.py"
inns rt ip addr add fd00:4::254/64 dev eth1 nodad
inns rt ip6tables -t nat -A PREROUTING -i eth1 -p tcp --dport 80 -j REDIRECT --to-ports 8080
settle6
ip netns exec $(ns rt) conntrack -E -o timestamp -f ipv6 > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV 2>/dev/null || true; teardown' EXIT
sleep 0.5
start_capture rt "$out"
{
  echo "# tcp [fd00:3::1]:43080 -> [fd00:206::1]:80 (redirected to rt:8080, nothing listens)"
  inns c python3 "$C6" tcp-try fd00:3::1 43080 fd00:206::1 80
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out"
inns rt ip6tables-save > "$out/ip6tables-save.txt"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
kill $EV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
