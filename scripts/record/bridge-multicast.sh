#!/usr/bin/env bash
# What a docker-style bridge host rt does with the multicast and broadcast frames a container
# sends. Topology as docker-bridge.sh (bridge docker0 172.17.0.1/16 with ct1 172.17.0.2 on vethc1
# and ct2 172.17.0.3 on vethc2, uplink eth0 192.168.206.250 to w 192.168.206.1, ip_forward=1),
# plus `default via 192.168.206.1` in rt, hairpin off, and a simpler ruleset: nat only
# `POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`; filter policy ACCEPT with counter
# rules (no target) INPUT/FORWARD `-d 224.0.0.0/4` and `-d 172.17.255.255/32`.
# `bridge-multicast.sh OUTDIR on|off` sets net.bridge.bridge-nf-call-iptables in rt.
# The bridge floods a multicast/broadcast frame to its other ports (multicast snooping is on, but
# there is no querier and no mdb entry: 224.0.0.x groups are never snooped, 239.255.255.250 is
# unregistered, so both are flooded) and passes a copy up to docker0's IP stack
# (br_pass_frame_up), where ip_route_input_rcu delivers a group only if docker0 has joined it
# (224.0.0.1 always; the bridge itself joins 224.0.0.106, igmp.txt) and drops the others;
# 172.17.255.255 and 255.255.255.255 are delivered locally; nothing is routed out of eth0.
# docker0 takes the lowest port MAC (no address set), so which port's MAC it has is random.
# ct2 runs a receiver (receiver.txt, 10 s): UDP 0.0.0.0:5353 joined to 224.0.0.251 on eth0, and
# UDP 0.0.0.0:9999 with SO_BROADCAST; it logs each datagram with its destination (IP_PKTINFO).
# The recorder waits 3 s after the join (its unsolicited IGMP reports), saves nstat-before.txt and
# iptables-save-c-setup.txt, then flushes conntrack and zeroes the iptables counters, so that
# conntrack-L.txt and iptables-save-c.txt hold only what the capture shows. Traffic from ct1 (one
# python3 script, sockets bound to 172.17.0.2, 0.2 s apart; client.txt):
#   1. udp :40001 -> 224.0.0.251:5353, IP_MULTICAST_TTL 255 (mDNS-like; ct2 joined, docker0 not)
#   2. udp :40002 -> 239.255.255.250:1900, IP_MULTICAST_TTL 4 (nobody joined)
#   3. udp :40003 -> 224.0.0.1:9999, IP_MULTICAST_TTL 1 (all-hosts: ct2's 9999 socket and docker0)
#   4. udp :40004 -> 172.17.255.255:9999, SO_BROADCAST (subnet broadcast)
#   5. udp :40005 -> 255.255.255.255:9999, SO_BROADCAST (limited broadcast)
#   6. control: udp :40006 -> 172.17.0.3:9999 (unicast to ct2, bridged)
#   7. control: udp :40007 -> 192.168.206.1:9 (routed out eth0, masqueraded; w's udp_sink)
# After: snapshot (iptables-save -c, cpu-online.txt), ip-link-details.json (`ip -j -d link`),
# bridge-ports.json, bridge-fdb.json (`bridge -j -s fdb show br docker0`, at capture start) and
# bridge-fdb-after.json, bridge-mdb.json, nstat.txt (rt) and nstat-ct2.txt, igmp.txt
# (/proc/net/igmp of rt) and igmp-ct2.txt.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; brnf=${2:?on|off}; mkdir -p "$out"
case $brnf in on) BRNF=1;; off) BRNF=0;; *) echo "on or off" >&2; exit 2;; esac
mkns rt w ct1 ct2
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { echo "br_netfilter is not loaded (modprobe br_netfilter)" >&2; exit 1; }
link rt eth0 w eth0
inns rt ip link add docker0 type bridge
inns rt ip addr add 172.17.0.1/16 dev docker0; inns rt ip link set docker0 up
link rt vethc1 ct1 eth0; link rt vethc2 ct2 eth0
inns rt ip link set vethc1 master docker0; inns rt ip link set vethc2 master docker0
inns rt ip addr add 192.168.206.250/24 dev eth0
inns rt ip route add default via 192.168.206.1
inns rt sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=$BRNF
inns w ip addr add 192.168.206.1/24 dev eth0; inns w ip route add default via 192.168.206.250
inns ct1 ip addr add 172.17.0.2/16 dev eth0; inns ct1 ip route add default via 172.17.0.1
inns ct2 ip addr add 172.17.0.3/16 dev eth0; inns ct2 ip route add default via 172.17.0.1
inns rt iptables-restore <<'R'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -d 224.0.0.0/4
-A INPUT -d 172.17.255.255/32
-A FORWARD -d 224.0.0.0/4
-A FORWARD -d 172.17.255.255/32
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
# the receiver on ct2: 5353 joined to 224.0.0.251 on eth0 (172.17.0.3), 9999 with SO_BROADCAST
inns ct2 python3 -c '
import socket,select,time
IP_PKTINFO=getattr(socket,"IP_PKTINFO",8)
def sock(port):
  u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
  u.setsockopt(socket.IPPROTO_IP,IP_PKTINFO,1); u.bind(("0.0.0.0",port)); return u
m=sock(5353)
m.setsockopt(socket.IPPROTO_IP,socket.IP_ADD_MEMBERSHIP,socket.inet_aton("224.0.0.251")+socket.inet_aton("172.17.0.3"))
print("bound 0.0.0.0:5353, joined 224.0.0.251 on 172.17.0.3 (eth0)",flush=True)
b=sock(9999); b.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)
print("bound 0.0.0.0:9999, SO_BROADCAST",flush=True)
end=time.time()+10
while True:
  left=end-time.time()
  if left<=0: break
  rd,_,_=select.select([m,b],[],[],left)
  for u in rd:
    d,anc,fl,a=u.recvmsg(2000,256)
    dst="?"
    for lvl,typ,data in anc:
      if lvl==socket.IPPROTO_IP and typ==IP_PKTINFO: dst=socket.inet_ntoa(data[8:12])
    print("port %d received %r from %s:%d to %s" % (u.getsockname()[1],d,a[0],a[1],dst),flush=True)
print("receiver done",flush=True)' > "$out/receiver.txt" 2>&1 & RCV=$!
trap 'kill $RCV 2>/dev/null || true; teardown' EXIT
sleep 3   # ct2's join: its unsolicited IGMPv3 reports (robustness 2, within 1 s) go out before the capture
inns rt nstat -az > "$out/nstat-before.txt" 2>/dev/null || true
inns rt iptables-save -c > "$out/iptables-save-c-setup.txt"
# flush conntrack (IGMP reports of the setup) and zero the counters: both then hold only what the capture shows
inns rt conntrack -F 2>/dev/null || true
inns rt iptables -Z; inns rt iptables -t nat -Z
# the bridge's forwarding database as the capture starts (bridge_fdb: learned entries and their age)
inns rt bridge -j -s fdb show br docker0 > "$out/bridge-fdb.json"
start_capture rt "$out"
udp_sink w 0.0.0.0 9 & S9=$!
trap 'kill $RCV $S9 2>/dev/null || true; teardown' EXIT
sleep 0.3
inns ct1 python3 -c '
import socket,struct,time,errno
IP_RECVERR=getattr(socket,"IP_RECVERR",11); MSG_ERRQUEUE=getattr(socket,"MSG_ERRQUEUE",0x2000)
def drain(u,what):
  while True:
    try: d,anc,fl,a=u.recvmsg(2000,512,MSG_ERRQUEUE|socket.MSG_DONTWAIT)
    except BlockingIOError: break
    for lvl,typ,data in anc:
      if lvl==socket.IPPROTO_IP and typ==IP_RECVERR:
        ee_errno,origin,t,c=struct.unpack("=IBBB",data[:7])
        src=socket.inet_ntoa(data[20:24]) if len(data)>=24 else "?"
        print("  %s: ICMP error queued: errno %d (%s) origin %d type %d code %d from %s" % (what,ee_errno,errno.errorcode.get(ee_errno,"?"),origin,t,c,src),flush=True)
  while True:
    try: d,a=u.recvfrom(2000,socket.MSG_DONTWAIT)
    except BlockingIOError: break
    except OSError as e: print("  %s: recv error %s" % (what,e),flush=True); break
    print("  %s: received %r from %s:%d" % (what,d,a[0],a[1]),flush=True)
def udp(step,sport,dst,dport,ttl=None,bcast=False):
  u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("172.17.0.2",sport))
  u.setsockopt(socket.IPPROTO_IP,IP_RECVERR,1)
  opts=[]
  if ttl is not None: u.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,ttl); opts.append("IP_MULTICAST_TTL %d" % ttl)
  if bcast: u.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1); opts.append("SO_BROADCAST")
  print("# %d. udp 172.17.0.2:%d -> %s:%d %s" % (step,sport,dst,dport,", ".join(opts)),flush=True)
  p=b"step%d" % step
  try: print("  sendto %r -> %d bytes" % (p,u.sendto(p,(dst,dport))),flush=True)
  except OSError as e: print("  sendto %r: error %s" % (p,e),flush=True)
  time.sleep(0.2)
  drain(u,"step %d" % step); u.close()
udp(1,40001,"224.0.0.251",5353,ttl=255)
udp(2,40002,"239.255.255.250",1900,ttl=4)
udp(3,40003,"224.0.0.1",9999,ttl=1)
udp(4,40004,"172.17.255.255",9999,bcast=True)
udp(5,40005,"255.255.255.255",9999,bcast=True)
udp(6,40006,"172.17.0.3",9999)
udp(7,40007,"192.168.206.1",9)
time.sleep(0.5)
print("done",flush=True)' > "$out/client.txt" 2>&1
inns rt cat /proc/net/igmp > "$out/igmp.txt"
inns ct2 cat /proc/net/igmp > "$out/igmp-ct2.txt"   # ct2's receiver is still joined (10 s)
stop_capture
kill -0 $RCV 2>/dev/null || echo "receiver had already left at stop_capture" >&2
snapshot_counted rt "$out"
inns rt sysctl -a 2>/dev/null | grep -E '^net\.bridge\.bridge-nf|^net\.ipv4\.(icmp_echo_ignore_broadcasts|conf\.(all|docker0)\.mc_forwarding) ' >> "$out/sysctl.txt" || true
# the bridge and its ports in detail (kind, ageing_time, mcast_snooping/querier, each port's state, hairpin, learning, flood)
inns rt ip -j -d link > "$out/ip-link-details.json"
inns rt bridge -j -d link show > "$out/bridge-ports.json"
inns rt bridge -j -s fdb show br docker0 > "$out/bridge-fdb-after.json"
inns rt bridge -j -d mdb show > "$out/bridge-mdb.json" 2>/dev/null || true
inns rt nstat -az > "$out/nstat.txt" 2>/dev/null || true
inns ct2 nstat -az > "$out/nstat-ct2.txt" 2>/dev/null || true
wait $RCV 2>/dev/null || true
kill $S9 2>/dev/null || true; wait $S9 2>/dev/null || true
finish "$out"
