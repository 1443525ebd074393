#!/usr/bin/env bash
# ip6tables SNAT to an IPv6 address range (find_best_ips_proto over the four words): rt
# source-NATs the LAN's UDP out of eth0, to fd00:207::10-fd00:207::1f for udp/9 (the last word
# varies) and to fd00:207::1:0:0-fd00:207::2:0:5 for udp/10 (the range crosses a word: once the
# third word is below its maximum the fourth takes any value). w routes fd00:207::/64 back to rt
# and drops the datagrams in its INPUT. c sends one datagram to each port from each of six
# addresses; the capture shows each connection's chosen source on eth0, conntrack-L-ipv6.txt the
# entries.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
P=rules6sr$$ # namespace names unique to this recorder
. "$(dirname "$0")/topo6-basic.sh"
for i in 3 4 5 6; do inns c ip addr add fd00:3::$i/64 dev eth0 nodad; done
inns w ip -6 route add fd00:207::/64 via fd00:206::250
inns w ip6tables -A INPUT -p udp -j DROP
inns rt ip6tables -t nat -A POSTROUTING -o eth0 -p udp --dport 9 -j SNAT --to-source fd00:207::10-fd00:207::1f
inns rt ip6tables -t nat -A POSTROUTING -o eth0 -p udp --dport 10 -j SNAT --to-source fd00:207::1:0:0-fd00:207::2:0:5
settle6
send(){ inns c python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
s.sendto(b"range", ("fd00:206::1", int(sys.argv[3])))
print("sent [%s]:%s -> [fd00:206::1]:%s" % tuple(sys.argv[1:4]), flush=True)' "$@"; }
start_capture rt "$out"
{
  for i in 1 2 3 4 5 6; do send fd00:3::$i 4000$i 9; done
  for i in 1 2 3 4 5 6; do send fd00:3::$i 4100$i 10; done
} > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out"
inns rt ip6tables-save > "$out/ip6tables-save.txt"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
finish "$out"
