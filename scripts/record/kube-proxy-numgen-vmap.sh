#!/usr/bin/env bash
# kube-proxy's nftables mode, small: ClusterIP 10.96.0.10:80 with endpoints 10.0.1.2:8080 and
# 10.0.1.3:8080 (namespace b behind rt's eth2), picked by `numgen random mod 2 vmap { 0 : goto
# endpoint-a, 1 : goto endpoint-b }`; each endpoint chain DNATs. The pod CIDR is 10.0.3.0/24:
# traffic to the ClusterIP from outside it is marked 0x4000 and masqueraded (fully-random) in
# postrouting, as kube-proxy does. 12 connections from the pod 10.0.3.1 (not masqueraded), then
# 6 from the host 192.168.206.1 (masqueraded to 10.0.1.254).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
. "$(dirname "$0")/kube-proxy-nft.sh"
backend_b
A=endpoint-AAAAAAAA-default/web/tcp/http__10.0.1.2/8080
B=endpoint-BBBBBBBB-default/web/tcp/http__10.0.1.3/8080
SVC=service-HRJQDJ3Y-default/web/tcp/http
inns rt nft -f - <<R
$(kube_proxy_base)
add rule ip kube-proxy $SVC ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.0.3.0/24 jump mark-for-masquerade
add rule ip kube-proxy $SVC numgen random mod 2 vmap { 0 : goto $A , 1 : goto $B }
add rule ip kube-proxy $A ip saddr 10.0.1.2 jump mark-for-masquerade
add rule ip kube-proxy $A meta l4proto tcp dnat to 10.0.1.2:8080
add rule ip kube-proxy $B ip saddr 10.0.1.3 jump mark-for-masquerade
add rule ip kube-proxy $B meta l4proto tcp dnat to 10.0.1.3:8080
add element ip kube-proxy service-ips { 10.96.0.10 . tcp . 80 : goto $SVC }
R
NC=12 NW=6
# server: per connection, answer with the address it was reached at and the peer, wait for FIN, close
ip netns exec $(ns b) python3 -c '
import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("0.0.0.0",8080)); s.listen(8); s.settimeout(20)
try:
  for _ in range(int(sys.argv[1])):
    c,a=s.accept(); c.settimeout(5); d=c.recv(100); c.sendall(("pong from %s to %s:%d: " % ((c.getsockname()[0],)+a)).encode()+d)
    while c.recv(100): pass
    c.close()
except Exception: pass
' $((NC+NW)) & SRV=$!
sleep 0.5
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
CLIENT='
import socket,sys,time
src,first,n=sys.argv[1],int(sys.argv[2]),int(sys.argv[3])
for port in range(first,first+n):
  s=socket.socket(); s.bind((src,port)); s.settimeout(5); s.connect(("10.96.0.10",80))
  s.sendall(b"hello%d" % port); print("%s:%d: %s" % (src,port,s.recv(100).decode()), flush=True); time.sleep(0.05); s.close(); time.sleep(0.1)
'
start_capture rt "$out"
inns c python3 -c "$CLIENT" 10.0.3.1 44001 $NC > "$out/client.txt"
inns w python3 -c "$CLIENT" 192.168.206.1 45001 $NW >> "$out/client.txt"
stop_capture
snapshot rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
