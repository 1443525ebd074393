#!/bin/bash
# ip6-tcp-windows OUT: the windows and options a Linux TCP socket announces, IPv4 beside IPv6,
# without timestamps (net.ipv4.tcp_timestamps=0, natsim's sockets use none) and with tcp_rmem's
# default 6 MB maximum (window scale 7, as natsim's). Two namespaces on one veth: a connects to b
# port 80 over IPv4 then over IPv6, sends 4 bytes, b closes, then a closes. Captured on b.
set -euo pipefail
# Its output is fixtures/kernel-experiments/ip6-tcp-windows (a capture, no node snapshot).
OUT=${1:?usage: ip6-tcp-windows.sh OUT}
mkdir -p "$OUT"
A=sock6a; B=sock6b
ip netns add $A; ip netns add $B
trap 'ip netns del $A; ip netns del $B' EXIT
ip link add sock6va netns $A type veth peer name sock6vb netns $B
for n in $A $B; do
  ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv4.tcp_timestamps=0
  ip netns exec $n sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456"
  ip netns exec $n ip link set lo up
done
ip -n $A addr add fd00::1/64 nodad dev sock6va; ip -n $A addr add 10.9.0.1/24 dev sock6va; ip -n $A link set sock6va up
ip -n $B addr add fd00::2/64 nodad dev sock6vb; ip -n $B addr add 10.9.0.2/24 dev sock6vb; ip -n $B link set sock6vb up
sleep 1
ip netns exec $B timeout 8 tcpdump -ni sock6vb -c 18 tcp -w "$OUT/capture.pcap" 2>"$OUT/tcpdump.txt" &
sleep 1
ip netns exec $B timeout 5 python3 -c "
import socket,threading
def srv(fam,addr):
  s=socket.socket(fam); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((addr,80)); s.listen(); c,_=s.accept(); c.recv(10); c.close()
for f,a in ((socket.AF_INET,'10.9.0.2'),(socket.AF_INET6,'fd00::2')): threading.Thread(target=srv,args=(f,a)).start()
" &
sleep 1
ip netns exec $A timeout 3 python3 -c "
import socket,time
for f,a in ((socket.AF_INET,'10.9.0.2'),(socket.AF_INET6,'fd00::2')):
  s=socket.socket(f); s.connect((a,80)); s.send(b'ping'); time.sleep(0.2); s.close()
"
wait || true
uname -r > "$OUT/uname.txt"
tcpdump -nr "$OUT/capture.pcap" > "$OUT/capture.txt" 2>/dev/null
