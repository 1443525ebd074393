#!/usr/bin/env bash
# The IPv6 twin of udp-frag-mtu1400 (issue 19): rt masquerades fd00:3::/64 out of eth0 (nft
# `table ip6 nat`), whose uplink (and the server's link) has MTU 1400; the LAN eth1 has 1500.
# In this order, from the client c:
# 1. [fd00:3::1]:40002 sends one 1452-byte UDP datagram with IPV6_DONTFRAG (a whole 1500-byte
#    packet): it does not fit eth0, rt answers Packet Too Big (mtu 1400) and the client's path
#    MTU toward fd00:206::1 drops to 1400.
# 2. Twice, [fd00:3::1]:40001 sends a 3000-byte datagram to [fd00:206::1]:9000, fragmented by the
#    client at its path MTU 1400; the server answers 3000 bytes (fragmented at its MTU 1400). rt
#    reassembles each (nf_ct_frag6_gather), NATs it whole and refragments it (ip6_fragment).
# 3. [fd00:3::1]:40003 sends a 3000-byte datagram to [fd00:206::2]:9000, a destination the
#    client has no path MTU for: its fragments are 1500-byte ones, rt reassembles them, and the
#    reassembled packet's largest fragment does not fit eth0 (ip6_pkt_too_big by frag_max_size):
#    Packet Too Big (mtu 1400), nothing forwarded.
# With net.netfilter.nf_conntrack_frag6_timeout lowered to 3 s on rt, crafted fragments (a raw
# socket of protocol 44) of 2000-byte UDP datagrams to [fd00:206::1]:9000:
# 4. [fd00:3::1]:40004, id 0x4004: data 0-1200 (M), then 1192-2008 (overlapping it): RFC 5722,
#    the whole datagram is dropped; then 1200-2008, which lands in a new queue alone and expires.
# 5. [fd00:3::1]:40005, id 0x4005: only data 0-1200 (M); when its queue expires rt sends time
#    exceeded (fragment reassembly time exceeded, 3/1) quoting it.
# 6. 4.5 s later, [fd00:3::1]:40006 sends a 100-byte datagram, answered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo6-basic.sh"
inns rt sysctl -qw net.netfilter.nf_conntrack_frag6_timeout=3
inns rt ip link set eth0 mtu 1400; inns w ip link set eth0 mtu 1400
inns w ip addr add fd00:206::2/64 dev eth0 nodad
inns rt nft -f - <<'R'
table ip6 nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}
}
R
ip netns exec $(ns w) python3 -c '
import socket
u=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); u.bind(("fd00:206::1",9000)); u.settimeout(12)
try:
  while True:
    d,a=u.recvfrom(65535); print("server: %d bytes from [%s]:%d" % (len(d),a[0],a[1]), flush=True); u.sendto(b"R"*len(d),a)
except Exception: pass
' > "$out/server.txt" & SRV=$!
settle6
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp -f ipv6 > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
inns c python3 -c '
import socket,time
IPV6_DONTFRAG,IPV6_MTU=62,24
v=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); v.bind(("fd00:3::1",40002)); v.connect(("fd00:206::1",9000))
v.setsockopt(socket.IPPROTO_IPV6,IPV6_DONTFRAG,1)
v.send(b"D"*1452); time.sleep(0.5)
print("client: 1452-byte datagram with IPV6_DONTFRAG sent; path MTU now", v.getsockopt(socket.IPPROTO_IPV6,IPV6_MTU), flush=True)
u=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); u.bind(("fd00:3::1",40001)); u.settimeout(2)
for i in range(2):
  u.sendto(bytes([65+i])*3000,("fd00:206::1",9000))
  d,a=u.recvfrom(65535); print("client: 3000-byte datagram %d answered with %d bytes" % (i+1,len(d)), flush=True); time.sleep(0.3)
w=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); w.bind(("fd00:3::1",40003)); w.connect(("fd00:206::2",9000))
w.send(b"E"*3000); time.sleep(0.5)
print("client: 3000-byte datagram to fd00:206::2 sent; path MTU now", w.getsockopt(socket.IPPROTO_IPV6,IPV6_MTU), flush=True)
' > "$out/client.txt" 2>&1
inns c python3 -c '
import socket,struct,time
S,D="fd00:3::1","fd00:206::1"
def csum(b):
  if len(b)%2: b+=b"\0"
  s=sum(struct.unpack("!%dH"%(len(b)//2),b))
  while s>>16: s=(s&0xffff)+(s>>16)
  return (~s)&0xffff
def udp(sport,n):
  data=bytes([(i*7)&0xff for i in range(n)]); l=8+n
  ph=socket.inet_pton(socket.AF_INET6,S)+socket.inet_pton(socket.AF_INET6,D)+struct.pack("!IxxxB",l,17)
  c=csum(ph+struct.pack("!HHHH",sport,9000,l,0)+data) or 0xffff
  return struct.pack("!HHHH",sport,9000,l,c)+data
r=socket.socket(socket.AF_INET6,socket.SOCK_RAW,44); r.bind((S,0))
def frag(dgram,ident,start,end,more):
  r.sendto(struct.pack("!BBHI",17,0,start|more,ident)+dgram[start:end],(D,0))
a=udp(40004,2000); frag(a,0x4004,0,1200,1); frag(a,0x4004,1192,2008,0); time.sleep(0.1); frag(a,0x4004,1200,2008,0)
print("client: 40004 sent 0-1200, 1192-2008 (overlapping) and 1200-2008", flush=True); time.sleep(0.4)
b=udp(40005,2000); frag(b,0x4005,0,1200,1)
print("client: 40005 sent only 0-1200", flush=True)
e=socket.socket(socket.AF_INET6,socket.SOCK_RAW,58); e.bind((S,0)); e.settimeout(5)
try:
  while True:
    d,a=e.recvfrom(2048)
    if d[0]==3: print("client: ICMPv6 time exceeded code %d from %s, quoting id 0x%x" % (d[1],a[0],struct.unpack("!I",d[52:56])[0]), flush=True); break
except Exception as x: print("client: no time exceeded:", x, flush=True)
time.sleep(1)
u=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); u.bind((S,40006)); u.settimeout(2)
u.sendto(b"x"*100,(D,9000)); d,a=u.recvfrom(65535); print("client: 40006 answered with %d bytes" % len(d), flush=True)
' >> "$out/client.txt" 2>&1
sleep 0.5
stop_capture
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
inns rt nstat -az 2>/dev/null | grep -E 'Ip6(Reasm|Frag|InTooBig|OutNoRoutes|InDiscards)|Icmp6OutPktTooBigs' > "$out/nstat.txt" || true
snapshot6 rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
