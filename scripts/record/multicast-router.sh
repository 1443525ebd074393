#!/usr/bin/env bash
# What a forwarding router with a default route does with the multicast and broadcast packets it
# receives: rt (topo-basic, ip_forward=1, default via 192.168.206.1, masquerade out of eth0) must
# not route them as unicast. ip_route_input_rcu tests ipv4_is_multicast(daddr) before any FIB
# lookup: a group the receiving device has joined (ip_check_mc_rcu; 224.0.0.1 always) is
# delivered locally (ip_route_input_mc, LOCAL_IN), any other group is dropped (mc_forwarding is
# 0, no multicast routing daemon); 255.255.255.255 and the subnet broadcast 10.0.3.255 (a
# RTN_BROADCAST route in the local table) are delivered locally too. No ICMP error is sent for a
# multicast/broadcast, and icmp_echo_ignore_broadcasts=1 means no echo reply to one.
# A filter table counts what reached LOCAL_IN and FORWARD; a receiver on rt binds UDP 0.0.0.0:5000
# and joins 239.1.1.1 on eth1 (10.0.3.254) 3 s before the capture, so the join's unsolicited
# IGMP reports are not in it (igmp.txt: /proc/net/igmp while it is joined), and flushes their
# conntrack entry. Traffic from c:
#   1. udp 10.0.3.1:40001 -> 239.255.255.250:1900, IP_MULTICAST_TTL 4, 2 datagrams (not a member)
#   2. udp 10.0.3.1:40002 -> 224.0.0.251:5353, TTL 255, 1 datagram (not a member)
#   3. udp 10.0.3.1:40003 -> 224.0.0.1:9999, TTL 1, 1 datagram (all-hosts; no socket on 9999)
#   4. udp 10.0.3.1:40004 -> 239.1.1.1:5000, TTL 1, 2 datagrams (rt's receiver joined it)
#   5. udp 10.0.3.1:40005 -> 10.0.3.255:9999, SO_BROADCAST (subnet broadcast; no socket)
#   6. udp 10.0.3.1:40006 -> 255.255.255.255:9999, SO_BROADCAST (limited broadcast; no socket)
#   7. ICMP echo requests (raw socket, id 0x4d43, IP_MULTICAST_TTL 1, SO_BROADCAST):
#      10.0.3.1 -> 224.0.0.1 (seq 1) and 10.0.3.1 -> 10.0.3.255 (seq 2); no reply expected
#   8. control: udp 10.0.3.1:40008 -> 192.168.206.1:9, forwarded and masqueraded (w's udp_sink)
# client.txt: c's sendto results, ICMP errors (IP_RECVERR) and anything its sockets received.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt ip route add default via 192.168.206.1
masq_nft
# ECHO_IGNORE_BROADCASTS=0: rt answers the pings of step 7 (icmp_echo_ignore_broadcasts, default 1)
inns rt sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=${ECHO_IGNORE_BROADCASTS:-1}
inns rt nft -f - <<'R'
table ip filter {
	chain input {
		type filter hook input priority filter; policy accept;
		ip daddr 224.0.0.0/4 counter
		ip daddr 10.0.3.255 counter
		ip daddr 255.255.255.255 counter
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip daddr 224.0.0.0/4 counter
	}
}
R
# the receiver: joins 239.1.1.1 on eth1, reads datagrams for 12 s without answering
inns rt python3 -c '
import socket,time
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
u.bind(("0.0.0.0",5000))
u.setsockopt(socket.IPPROTO_IP,socket.IP_ADD_MEMBERSHIP,socket.inet_aton("239.1.1.1")+socket.inet_aton("10.0.3.254"))
print("joined 239.1.1.1 on 10.0.3.254 (eth1), bound 0.0.0.0:5000",flush=True)
end=time.time()+12
while True:
  left=end-time.time()
  if left<=0: break
  u.settimeout(left)
  try: d,a=u.recvfrom(2000)
  except socket.timeout: break
  print("received %r from %s:%d" % (d,a[0],a[1]),flush=True)
print("receiver done",flush=True)' > "$out/receiver.txt" 2>&1 & RCV=$!
trap 'kill $RCV 2>/dev/null || true; teardown' EXIT
sleep 3   # the join's unsolicited IGMPv3 reports (robustness 2, within 1 s) go out before the capture
inns rt conntrack -F 2>/dev/null   # and their conntrack entry (rt -> 224.0.0.22) with them: the table holds only what the capture shows
start_capture rt "$out"
udp_sink w 0.0.0.0 9 & S9=$!
trap 'kill $RCV $S9 2>/dev/null || true; teardown' EXIT
sleep 0.3
inns c python3 -c '
import socket,struct,time,select,errno
IP_RECVERR=getattr(socket,"IP_RECVERR",11); MSG_ERRQUEUE=getattr(socket,"MSG_ERRQUEUE",0x2000)
def drain(u,what):
  # ICMP errors queued by IP_RECVERR, then datagrams, without blocking
  while True:
    try: d,anc,fl,a=u.recvmsg(2000,512,MSG_ERRQUEUE|socket.MSG_DONTWAIT)
    except BlockingIOError: break
    for lvl,typ,data in anc:
      if lvl==socket.IPPROTO_IP and typ==IP_RECVERR:
        ee_errno,origin,t,c=struct.unpack("=IBBB",data[:7])
        off=16; src=socket.inet_ntoa(data[off+4:off+8]) if len(data)>=off+8 else "?"
        print("  %s: ICMP error queued: errno %d (%s) origin %d type %d code %d from %s" % (what,ee_errno,errno.errorcode.get(ee_errno,"?"),origin,t,c,src),flush=True)
  while True:
    try: d,a=u.recvfrom(2000,socket.MSG_DONTWAIT)
    except BlockingIOError: break
    except OSError as e: print("  %s: recv error %s" % (what,e),flush=True); break
    print("  %s: received %r from %s:%d" % (what,d,a[0],a[1]),flush=True)
def udp(step,sport,dst,dport,n,ttl=None,bcast=False):
  u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("10.0.3.1",sport))
  u.setsockopt(socket.IPPROTO_IP,IP_RECVERR,1)
  opts=[]
  if ttl is not None: u.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,ttl); opts.append("IP_MULTICAST_TTL %d" % ttl)
  if bcast: u.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1); opts.append("SO_BROADCAST")
  print("# %d. udp 10.0.3.1:%d -> %s:%d, %d datagram(s) %s" % (step,sport,dst,dport,n,", ".join(opts)),flush=True)
  for i in range(n):
    p=b"step%d-%d" % (step,i)
    try: print("  sendto %r -> %d bytes" % (p,u.sendto(p,(dst,dport))),flush=True)
    except OSError as e:
      print("  sendto %r: error %s" % (p,e),flush=True)
      if e.errno==errno.ENETUNREACH:
        u.setsockopt(socket.SOL_SOCKET,socket.SO_BINDTODEVICE,b"eth0")
        print("  SO_BINDTODEVICE eth0, again: sendto %r -> %d bytes" % (p,u.sendto(p,(dst,dport))),flush=True)
    time.sleep(0.2)
  drain(u,"step %d" % step); u.close()
def csum(b):
  if len(b)%2: b+=b"\0"
  s=sum(struct.unpack("!%dH" % (len(b)//2),b))
  while s>>16: s=(s&0xffff)+(s>>16)
  return (~s)&0xffff
udp(1,40001,"239.255.255.250",1900,2,ttl=4)
udp(2,40002,"224.0.0.251",5353,1,ttl=255)
udp(3,40003,"224.0.0.1",9999,1,ttl=1)
udp(4,40004,"239.1.1.1",5000,2,ttl=1)
udp(5,40005,"10.0.3.255",9999,1,bcast=True)
udp(6,40006,"255.255.255.255",9999,1,bcast=True)
r=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP); r.bind(("10.0.3.1",0))
r.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,1); r.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)
print("# 7. icmp echo requests, raw socket bound to 10.0.3.1, id 0x4d43, IP_MULTICAST_TTL 1, SO_BROADCAST",flush=True)
for seq,dst in ((1,"224.0.0.1"),(2,"10.0.3.255")):
  h=struct.pack("!BBHHH",8,0,0,0x4d43,seq)+bytes(range(32)); h=h[:2]+struct.pack("!H",csum(h))+h[4:]
  try: print("  sendto echo seq %d -> %s: %d bytes" % (seq,dst,r.sendto(h,(dst,0))),flush=True)
  except OSError as e: print("  sendto echo seq %d -> %s: error %s" % (seq,dst,e),flush=True)
  end=time.time()+0.8; replies=0
  while True:
    left=end-time.time()
    if left<=0: break
    rd,_,_=select.select([r],[],[],left)
    if not rd: break
    d,a=r.recvfrom(2000); ihl=(d[0]&15)*4; t,c=d[ihl],d[ihl+1]
    what="echo reply" if t==0 else ("echo request (own, looped back)" if t==8 and a[0]=="10.0.3.1" else "icmp")
    if t==0: replies+=1
    print("  raw socket got type %d code %d from %s to %s: %s" % (t,c,a[0],socket.inet_ntoa(d[16:20]),what),flush=True)
  print("  echo seq %d: %d replies" % (seq,replies),flush=True)
udp(8,40008,"192.168.206.1",9,1)
time.sleep(0.5)
print("done",flush=True)' > "$out/client.txt" 2>&1
inns rt cat /proc/net/igmp > "$out/igmp.txt"   # the receiver is still joined (12 s)
stop_capture
kill -0 $RCV 2>/dev/null && echo "receiver still joined at stop_capture" >&2
snapshot rt "$out"
inns rt sysctl net.ipv4.icmp_echo_ignore_broadcasts net.ipv4.conf.all.mc_forwarding net.ipv4.conf.eth1.mc_forwarding >> "$out/sysctl.txt"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
inns rt nstat -az > "$out/nstat.txt" 2>/dev/null || true
wait $RCV 2>/dev/null || true
kill $S9 2>/dev/null || true; wait $S9 2>/dev/null || true
finish "$out"
