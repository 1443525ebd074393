#!/usr/bin/env bash
# A router that forwards out of the interface a packet came in on: c (10.0.3.1) and s (10.0.3.2,
# which also owns 10.0.5.1) share a switch (bridge br0 in namespace sw) with rt's eth1
# (10.0.3.254); rt routes 10.0.5.0/24 via 10.0.3.2, so c's packets to 10.0.5.1 are marked for an
# ICMP redirect (ip_route_input: same device in and out, the source on-link) and ip_forward
# sends "redirect host 10.0.5.1 to 10.0.3.2" by ip_rt_send_redirect's backoff (the first at once,
# then only after 20 ms << redirects sent). c does not take redirects (accept_redirects=0), so
# it keeps sending through rt. The redirect state is the inet_peer of 10.0.3.1, whose
# rate_tokens icmp_send's own limit (icmp_ratelimit, 1 s) spends too.
# NAT=0 (the default): no nat table. NAT=1: rt also masquerades out of eth0 and DNATs udp
# 10.0.3.254:9999 to 10.0.3.2:9999 — a hairpin without masquerade; nf_nat_icmp_reply_translation
# then drops the redirect of an entry whose NAT is not done yet (a flow's first packet) and of a
# NATed entry.
#   1. 80 datagrams c -> 10.0.5.1:9, one every 35 ms (udp 40000)
#   2. c -> 10.0.3.254:9999 at once (NAT=0: rt's own port, closed: port unreachable, if the
#      peer's tokens allow; NAT=1: DNATed to s) and again 1.5 s later
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
NAT=${NAT:-0}
. "$(dirname "$0")/topo-switch.sh"
inns c sysctl -qw net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0
inns s ip addr add 10.0.5.1/32 dev lo
inns rt ip route add 10.0.5.0/24 via 10.0.3.2
if [ "$NAT" = 1 ]; then inns rt nft -f - <<'R'
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 10.0.3.254 udp dport 9999 dnat to 10.0.3.2:9999
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}
}
R
fi
udp_sink s 0.0.0.0 9 & S9=$!
udp_sink s 0.0.0.0 9999 & S99=$!
sleep 0.3
trap 'kill $S9 $S99 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
inns c python3 -c '
import socket,time
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("10.0.3.1",40000))
t=time.time()
for i in range(80):
  u.sendto(b"%02d" % i,("10.0.5.1",9)); t+=0.035; time.sleep(max(0,t-time.time()))
u.sendto(b"a",("10.0.3.254",9999)); time.sleep(1.5); u.sendto(b"b",("10.0.3.254",9999)); time.sleep(0.3)
print("sent 80 to 10.0.5.1:9, 2 to 10.0.3.254:9999")' > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"
inns rt nstat -az > "$out/nstat.txt" 2>/dev/null || true
kill $S9 $S99 2>/dev/null || true; wait $S9 $S99 2>/dev/null || true
finish "$out"
