#!/usr/bin/env bash
# 3000-byte UDP datagrams through nft masquerade where rt's uplink eth0 (and the server's link)
# has MTU 1400: the client's fragments (MTU 1500) are reassembled by conntrack defrag, NATed and
# refragmented for 1400; the server's 3000-byte answers come back in 1400-byte fragments, are
# reassembled, de-NATed and refragmented for eth1. Last, a 1450-byte datagram with DF set meets
# the 1400 MTU: rt answers fragmentation needed (mtu 1400).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt ip link set eth0 mtu 1400; inns w ip link set eth0 mtu 1400
masq_nft
ip netns exec $(ns w) python3 -c '
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("192.168.206.1",9000)); u.settimeout(8)
try:
  while True:
    d,a=u.recvfrom(65535); print("server: %d bytes from %s:%d" % ((len(d),)+a), flush=True); u.sendto(b"R"*len(d),a)
except Exception: pass
' > "$out/server.txt" & SRV=$!
sleep 0.5
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
inns c python3 -c '
import socket,time
IP_MTU_DISCOVER,IP_PMTUDISC_DONT,IP_PMTUDISC_DO,IP_MTU=10,0,2,14
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("10.0.3.1",40001)); u.settimeout(2)
u.setsockopt(socket.IPPROTO_IP,IP_MTU_DISCOVER,IP_PMTUDISC_DONT)
for i in range(2):
  u.sendto(bytes([65+i])*3000,("192.168.206.1",9000))
  d,a=u.recvfrom(65535); print("client: %d-byte datagram %d answered with %d bytes" % (3000,i+1,len(d)), flush=True); time.sleep(0.3)
v=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); v.bind(("10.0.3.1",40002)); v.settimeout(1)
v.setsockopt(socket.IPPROTO_IP,IP_MTU_DISCOVER,IP_PMTUDISC_DO); v.connect(("192.168.206.1",9000))
v.send(b"D"*1450); time.sleep(0.5)
try: v.send(b"D"*1450); print("client: second DF send went out")
except OSError as e: print("client: 1450-byte DF datagram, then:", e, "; path MTU now", v.getsockopt(socket.IPPROTO_IP,IP_MTU), flush=True)
' > "$out/client.txt" 2>&1
sleep 0.5
stop_capture
snapshot rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
