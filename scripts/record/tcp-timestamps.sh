#!/bin/bash
# tcp-timestamps OUT: the TCP timestamp option as a Linux socket sends it (net.ipv4.tcp_timestamps,
# tcp_syn_options / tcp_synack_options / tcp_established_options), with tcp_rmem's default 6 MB
# maximum (window scale 7, as natsim's sockets). Three namespaces: client a (tcp_timestamps=1),
# server b (1) on one veth, server c (0) on another. a connects to b port 80 over IPv4, then over
# IPv6, each time sending 4 bytes (b's ACK shows its window before any growth), then 2996 more
# (segments of the MSS less the 12 bytes of the option: TSO and GSO are off on a's veths, so the
# capture shows the segments TCP cut) and reading b's 10-byte answer; then to c port 80 over IPv4 (SYN with TS, SYN-ACK
# without: neither side uses TS after); then, with a's tcp_timestamps set to 2, to b again over
# IPv4 (TSval without the random offset: tcp_clock_ms itself). Captured in a on any interface.
# Then in a fourth namespace, over loopback (MSS 65495): a connection sending 4 bytes, captured
# on lo into loopback.pcap (the windows of an MSS that is not the Ethernet one).
set -euo pipefail
# Its output is fixtures/kernel-experiments/tcp-timestamps (a capture, no node snapshot).
OUT=${1:?usage: tcp-timestamps.sh OUT}
mkdir -p "$OUT"
A=tcptsa; B=tcptsb; C=tcptsc; L=tcptsl
ip netns add $A; ip netns add $B; ip netns add $C; ip netns add $L
trap 'ip netns del $A; ip netns del $B; ip netns del $C; ip netns del $L' EXIT
ip link add tcptsab netns $A type veth peer name tcptsba netns $B
ip link add tcptsac netns $A type veth peer name tcptsca netns $C
for n in $A $B $C $L; do
  ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip netns exec $n sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456"
  ip netns exec $n ip link set lo up
done
ip netns exec $C sysctl -qw net.ipv4.tcp_timestamps=0
ip -n $A addr add 10.9.1.1/24 dev tcptsab; ip -n $A addr add fd00:1::1/64 nodad dev tcptsab; ip -n $A link set tcptsab up
ip -n $B addr add 10.9.1.2/24 dev tcptsba; ip -n $B addr add fd00:1::2/64 nodad dev tcptsba; ip -n $B link set tcptsba up
ip -n $A addr add 10.9.2.1/24 dev tcptsac; ip -n $A link set tcptsac up
ip netns exec $A ethtool -K tcptsab tso off gso off >/dev/null; ip netns exec $A ethtool -K tcptsac tso off gso off >/dev/null
ip -n $C addr add 10.9.2.2/24 dev tcptsca; ip -n $C link set tcptsca up
sleep 1
ip netns exec $A timeout 12 tcpdump -ni any -s 128 tcp -w "$OUT/capture.pcap" 2>"$OUT/tcpdump.txt" &
DUMP=$!
sleep 1
SERVER="
import socket,sys,threading
def srv(fam,addr,n):
  s=socket.socket(fam); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((addr,80)); s.listen()
  for _ in range(n):
    c,_=s.accept(); got=0
    while got<3000:
      d=c.recv(4096)
      if not d: break
      got+=len(d)
    c.send(b'0123456789'); c.recv(10); c.close()
for f,a,n in [(socket.AF_INET if ':' not in a else socket.AF_INET6,a,int(n)) for a,n in zip(sys.argv[1::2],sys.argv[2::2])]: threading.Thread(target=srv,args=(f,a,n)).start()
"
ip netns exec $B timeout 9 python3 -c "$SERVER" 10.9.1.2 2 fd00:1::2 1 &
ip netns exec $C timeout 9 python3 -c "$SERVER" 10.9.2.2 1 &
sleep 1
CLIENT="
import socket,sys,time
a=sys.argv[1]; s=socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET); s.connect((a,80)); s.send(b'xxxx'); time.sleep(0.05); s.sendall(b'x'*2996); s.recv(10); time.sleep(0.2); s.close(); time.sleep(0.3)
"
for dst in 10.9.1.2 fd00:1::2 10.9.2.2; do ip netns exec $A timeout 3 python3 -c "$CLIENT" $dst; done
ip netns exec $A sysctl -qw net.ipv4.tcp_timestamps=2
cat /proc/uptime > "$OUT/uptime-before-ts2.txt"
ip netns exec $A timeout 3 python3 -c "$CLIENT" 10.9.1.2
sleep 1
kill -INT $DUMP; wait $DUMP || true
wait || true
ip netns exec $L timeout 6 tcpdump -ni lo -c 10 tcp -w "$OUT/loopback.pcap" 2>"$OUT/tcpdump-loopback.txt" &
sleep 1
ip netns exec $L timeout 3 python3 -c "
import socket,threading,time
s=socket.socket(); s.bind(('127.0.0.1',80)); s.listen()
def srv():
  c,_=s.accept(); c.recv(10); c.recv(10); c.close()
threading.Thread(target=srv).start()
k=socket.socket(); k.connect(('127.0.0.1',80)); k.send(b'ping'); time.sleep(0.2); k.close(); time.sleep(0.3)
"
wait || true
uname -r > "$OUT/uname.txt"
tcpdump -nn -v -r "$OUT/capture.pcap" > "$OUT/capture.txt" 2>/dev/null
tcpdump -nn -v -r "$OUT/loopback.pcap" > "$OUT/loopback.txt" 2>/dev/null
