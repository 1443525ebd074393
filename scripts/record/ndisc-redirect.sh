#!/usr/bin/env bash
# IPv6's redirect (ip6_forward -> ndisc_send_redirect): c (fd00:3::1) and s (fd00:3::2, link-local
# fe80::2, owning fd00:5::1 and fd00:6::1) share a switch with rt's eth1 (fd00:3::254); rt routes
# fd00:5::/64 via s's link-local fe80::2 and fd00:6::/64 via its global fd00:3::2, both out of
# eth1, where c's packets came in. c does not take redirects; nothing listens on s's port 9 (its
# port unreachables go to c directly, past rt).
#   1. 10 datagrams c -> [fd00:5::1]:9, 100 ms apart: redirect target fe80::2 (link-local)
#   2. 3 datagrams c -> [fd00:6::1]:9, 100 ms apart: the target fd00:3::2 is not link-local,
#      which ndisc_send_redirect refuses
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
mkns6 c s sw rt
inns sw ip link add br0 type bridge; inns sw ip link set br0 up
link c eth0 sw p-c; link s eth0 sw p-s; link rt eth1 sw p-rt
for p in p-c p-s p-rt; do inns sw ip link set $p master br0; done
inns c ip addr add fd00:3::1/64 dev eth0 nodad; inns c ip -6 route add default via fd00:3::254
inns c sysctl -qw net.ipv6.conf.all.accept_redirects=0 net.ipv6.conf.eth0.accept_redirects=0
inns s ip addr add fe80::2/64 dev eth0 nodad; inns s ip addr add fd00:3::2/64 dev eth0 nodad
inns s ip addr add fd00:5::1/128 dev lo; inns s ip addr add fd00:6::1/128 dev lo; inns s ip -6 route add default via fd00:3::254
inns rt ip addr add fd00:3::254/64 dev eth1 nodad
inns rt sysctl -qw net.ipv6.conf.all.forwarding=1
inns rt ip -6 route add fd00:5::/64 via fe80::2 dev eth1
inns rt ip -6 route add fd00:6::/64 via fd00:3::2 dev eth1
settle6
start_capture rt "$out"
inns c python3 -c '
import socket,time
u=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); u.bind(("fd00:3::1",40000))
for i in range(10): u.sendto(b"%02d" % i,("fd00:5::1",9)); time.sleep(0.1)
for i in range(3): u.sendto(b"%02d" % i,("fd00:6::1",9)); time.sleep(0.1)
print("sent 10 to [fd00:5::1]:9, 3 to [fd00:6::1]:9")' > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"
inns rt nstat -az > "$out/nstat.txt" 2>/dev/null || true
finish "$out"
