#!/usr/bin/env bash
# Which IPv6 multicast groups a forwarding router delivers locally and which it drops, and that it
# forwards none of them: rt (topo6-basic: eth1 fd00:3::254/64 towards c fd00:3::1, eth0
# fd00:206::250/64 towards w fd00:206::1, net.ipv6.conf.all.forwarding=1, plus
# `default via fd00:206::1`). Every device joins ff02::1 and the solicited-node groups of its
# addresses (ipv6_add_dev, addrconf_join_solict); with forwarding on it also joins ff02::2 and
# ff05::2 (dev_forward_change). ip6_route_input finds the `multicast ff00::/8` route of the local
# table (dst.input ip6_mc_input) before the default route; ip6_mc_input delivers a group the
# receiving device has joined (ipv6_chk_mcast_addr) and drops any other (the 6.18 kernel of the
# recording has no CONFIG_IPV6_MROUTE: no mc_forwarding sysctl, no multicast routing at all).
# No ICMPv6 error is sent for a multicast destination.
# A filter table counts what reached LOCAL_IN (udp dport 9999 to ff00::/8) and FORWARD (ff00::/8).
# The capture starts 3 s after the topology is up, so the MLD reports of the joins are over.
# Traffic from c (one python3 script; UDP, IPV6_MULTICAST_HOPS 255, IPV6_MULTICAST_IF c's eth0,
# sockets bound to fd00:3::1, 0.2 s apart, one datagram each):
#   1. udp [fd00:3::1]:40001 -> [ff02::2]:9999     (link-local all-routers: rt delivers)
#   2. udp [fd00:3::1]:40002 -> [ff05::2]:9999     (site-local all-routers: rt delivers)
#   3. udp [fd00:3::1]:40003 -> [ff02::1]:9999     (all-nodes: delivers)
#   4. udp [fd00:3::1]:40004 -> [ff02::3]:9999     (not joined: dropped)
#   5. udp [fd00:3::1]:40005 -> [ff05::1:3]:547    (all-DHCP-servers, not joined: dropped)
#   6. udp [fd00:3::1]:40006 -> [ff0e::1234]:9999  (global scope, not joined: dropped, not
#      forwarded by the default route)
#   7. control: udp [fd00:3::1]:40007 -> [fd00:206::1]:9, unicast, forwarded (w's UDP sink on [::]:9)
# client.txt: c's sendto results, ICMPv6 errors (IPV6_RECVERR) and anything its sockets received.
# igmp6.txt: rt's /proc/net/igmp6 after the traffic; nstat-before.txt: rt's counters just before the capture.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo6-basic.sh"
inns rt ip -6 route add default via fd00:206::1
inns rt nft -f - <<'R'
table ip6 filter {
	chain input {
		type filter hook input priority filter; policy accept;
		ip6 daddr ff00::/8 udp dport 9999 counter
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip6 daddr ff00::/8 counter
	}
}
R
sleep 3   # the joins' unsolicited MLDv2 reports (robustness 2, within 1 s) go out before the capture
inns rt nstat -az > "$out/nstat-before.txt" 2>/dev/null || true   # rt's counters at the start of the capture
start_capture rt "$out"
# the UDP sink of step 7 (udp_sink of lib.sh, IPv6): takes datagrams silently until 6 s pass without one
inns w python3 -c '
import socket
u=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); u.bind(("::",9)); u.settimeout(6)
try:
  while True: u.recvfrom(200)
except socket.timeout: pass' & S9=$!
trap 'kill $S9 2>/dev/null || true; teardown' EXIT
sleep 0.3
inns c python3 -c '
import socket,struct,time,errno
IPV6_RECVERR=getattr(socket,"IPV6_RECVERR",25); MSG_ERRQUEUE=getattr(socket,"MSG_ERRQUEUE",0x2000)
IFX=socket.if_nametoindex("eth0")
print("# c eth0 ifindex %d" % IFX,flush=True)
def drain(u,what):
  # ICMPv6 errors queued by IPV6_RECVERR, then datagrams, without blocking
  while True:
    try: d,anc,fl,a=u.recvmsg(2000,512,MSG_ERRQUEUE|socket.MSG_DONTWAIT)
    except BlockingIOError: break
    for lvl,typ,data in anc:
      if lvl==socket.IPPROTO_IPV6 and typ==IPV6_RECVERR:
        ee_errno,origin,t,c=struct.unpack("=IBBB",data[:7])
        off=16; src=socket.inet_ntop(socket.AF_INET6,data[off+8:off+24]) if len(data)>=off+24 else "?"
        print("  %s: ICMPv6 error queued: errno %d (%s) origin %d type %d code %d from %s" % (what,ee_errno,errno.errorcode.get(ee_errno,"?"),origin,t,c,src),flush=True)
  while True:
    try: d,a=u.recvfrom(2000,socket.MSG_DONTWAIT)
    except BlockingIOError: break
    except OSError as e: print("  %s: recv error %s" % (what,e),flush=True); break
    print("  %s: received %r from [%s]:%d" % (what,d,a[0],a[1]),flush=True)
def udp(step,sport,dst,dport,note):
  u=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); u.bind(("fd00:3::1",sport))
  u.setsockopt(socket.IPPROTO_IPV6,IPV6_RECVERR,1)
  u.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_MULTICAST_HOPS,255)
  u.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_MULTICAST_IF,IFX)
  print("# %d. udp [fd00:3::1]:%d -> [%s]:%d, IPV6_MULTICAST_HOPS 255, IPV6_MULTICAST_IF %d (%s)" % (step,sport,dst,dport,IFX,note),flush=True)
  p=b"step%d" % step
  try: print("  sendto %r -> %d bytes" % (p,u.sendto(p,(dst,dport))),flush=True)
  except OSError as e: print("  sendto %r: error %s" % (p,e),flush=True)
  time.sleep(0.2)
  drain(u,"step %d" % step); u.close()
udp(1,40001,"ff02::2",9999,"link-local all-routers")
udp(2,40002,"ff05::2",9999,"site-local all-routers")
udp(3,40003,"ff02::1",9999,"all-nodes")
udp(4,40004,"ff02::3",9999,"not joined")
udp(5,40005,"ff05::1:3",547,"all-DHCP-servers, not joined")
udp(6,40006,"ff0e::1234",9999,"global scope, not joined")
udp(7,40007,"fd00:206::1",9,"control: unicast, forwarded")
time.sleep(0.5)
print("done",flush=True)' > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out"
inns rt cat /proc/net/igmp6 > "$out/igmp6.txt"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
inns rt nstat -az > "$out/nstat.txt" 2>/dev/null || true
kill $S9 2>/dev/null || true; wait $S9 2>/dev/null || true
finish "$out"
