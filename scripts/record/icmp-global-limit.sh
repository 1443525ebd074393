#!/usr/bin/env bash
# The global ICMP limit (icmp_global_allow, icmp_global_consume: net.ipv4.icmp_msgs_per_sec 1000,
# icmp_msgs_burst 50): rt (topo-basic) answers each datagram with TTL 1 with time exceeded, to
# 120 sources at once, so that the peer limit (one a second, a burst of 6, per source) never
# binds and only the global one does: of a burst, about 50 are answered (each answer takes 0, 1
# or 2 credits at random). Traffic from c: three bursts of 120 UDP datagrams with TTL 1 to
# 192.168.206.1:9, one from each of 10.0.3.10-129 (raw sockets: the source is chosen per
# datagram), 2 s apart (the bucket refills in 50 ms). nstat.txt: rt's ICMP counters at the end
# (IcmpOutTimeExcds, IcmpOutRateLimitGlobal, IcmpOutRateLimitHost).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
for i in $(seq 10 129); do inns c ip addr add 10.0.3.$i/24 dev eth0; done
# every source resolved before the capture: c's neighbour entry for rt and rt's for each source
# come from the first datagram otherwise (ARP in the burst)
inns c python3 -c '
import socket
for i in range(10,130):
  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("10.0.3.%d"%i,0)); s.sendto(b"x",("10.0.3.254",9)); s.close()
' || true
sleep 1.5
start_capture rt "$out"
inns rt nstat -n >/dev/null 2>&1 || true
inns c python3 -c '
import socket,time
for burst in range(3):
  t=time.time()
  for i in range(10,130):
    s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_IP,socket.IP_TTL,1)
    s.bind(("10.0.3.%d"%i,40000)); s.sendto(b"%03d"%i,("192.168.206.1",9)); s.close()
  print("burst %d: 120 datagrams in %.1f ms" % (burst, (time.time()-t)*1000), flush=True)
  time.sleep(2)
' > "$out/client.txt"
stop_capture
inns rt nstat -az 2>/dev/null | grep -E '^Icmp(Out|InErrors|OutRate)' > "$out/nstat.txt" || true
snapshot rt "$out"
inns rt sysctl -a 2>/dev/null | grep -E 'icmp_msgs|icmp_ratelimit|icmp_ratemask' >> "$out/sysctl.txt" || true
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"
finish "$out"
