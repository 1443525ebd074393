#!/usr/bin/env bash
# A next hop that never answers ARP: rt (topo-basic, ip_forward=1) routes 198.51.100.0/24 via
# 192.168.206.99 on eth0, an address nobody holds, so every packet for it waits in the
# neighbour's arp_queue while rt asks (__neigh_event_send), and when the neighbour fails
# (neigh_invalidate) each packet still queued is answered with host unreachable
# (ipv4_link_failure) — within the ICMP limits (one per icmp_ratelimit per peer, a burst of 6).
# A packet beyond the queue's unres_qlen_bytes pushes the oldest one out (NEIGH_QUEUEFULL, no
# ICMP). No NAT, no conntrack rules. Traffic from c (10.0.3.1, UDP, python3 sockets), each
# datagram's payload starting with its number:
#   A. 5 datagrams of 100 bytes to 198.51.100.9:53 at 0, 0.4, 0.8, 1.6 and 2.4 s (one
#      resolution: when do the 5 errors come, each 3 s after its packet or all at the failure?)
#   B. at 7 s, one datagram (the neighbour FAILED: does it start a new resolution?)
#   C. at 12 s, 200 datagrams of 1200 bytes back to back (more than the queue holds: which ones
#      are answered?), then 5 s for the neighbour to fail;
#   D. at 20 s, 300 datagrams of 100 bytes back to back (the queue's size for small packets).
# client.txt: what c sent and the ICMP errors it received (their quoted datagram's number).
# neigh.txt: rt's neighbour table at the end (ip -s neigh: the entry FAILED after its probes).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt ip route add 198.51.100.0/24 via 192.168.206.99 dev eth0
start_capture rt "$out"
inns c python3 -c '
import socket,time,select
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("10.0.3.1",40000))
u.setsockopt(socket.SOL_IP,11,1)  # IP_RECVERR: ICMP errors are read from the error queue
t0=time.time()
def send(n,size):
  u.sendto(("%05d" % n).encode().ljust(size,b"."),("198.51.100.9",53))
  print("%.3f sent %d (%d bytes)" % (time.time()-t0,n,size),flush=True)
def drain(until):
  while time.time()<until:
    try:
      d,anc,_,_=u.recvmsg(2000,512,socket.MSG_ERRQUEUE|socket.MSG_DONTWAIT)
      print("%.3f error for %s" % (time.time()-t0,d[:5].decode()),flush=True)
    except BlockingIOError: time.sleep(0.01)
for n,at in enumerate([0,0.4,0.8,1.6,2.4],1):
  drain(t0+at); send(n,100)
drain(t0+7); send(6,100)
drain(t0+12)
for n in range(7,207): send(n,1200)
drain(t0+20)
for n in range(207,507): send(n,100)
drain(t0+26)
' > "$out/client.txt"
stop_capture
snapshot rt "$out"
finish "$out"
inns rt ip -s neigh show > "$out/neigh.txt" || true
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
