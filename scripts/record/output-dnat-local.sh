#!/usr/bin/env bash
# The router's own connections to virtual (service) addresses, DNATed in nat OUTPUT: TCP and UDP to
# 10.96.0.10 go to the server 192.168.206.1 (same interface as the route rt chose), TCP to
# 10.96.0.11 goes to 10.0.3.1 on the other side (rerouted after DNAT, and masqueraded there by
# `ct status dnat`). rt's sockets are saved while both TCP connections are open.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt ip route add default via 192.168.206.1 dev eth0
inns rt nft -f - <<'R'
table ip nat {
	chain output {
		type nat hook output priority -100; policy accept;
		ip daddr 10.96.0.10 tcp dport 80 dnat to 192.168.206.1:8080
		ip daddr 10.96.0.10 udp dport 53 dnat to 192.168.206.1:53
		ip daddr 10.96.0.11 tcp dport 80 dnat to 10.0.3.1:8080
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth1" ct status dnat masquerade
	}
}
R
SERVE='
import socket,sys,threading
ip=sys.argv[1]
def tcp():
  s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((ip,8080)); s.listen(1); s.settimeout(10)
  c,a=s.accept(); d=c.recv(100); c.sendall(("pong from %s to %s:%d: " % ((ip,)+a)).encode()+d); c.recv(100); c.close()
def udp():
  u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind((ip,53)); u.settimeout(10)
  d,a=u.recvfrom(100); u.sendto(b"answer:"+d,a)
threading.Thread(target=tcp).start()
if ip.startswith("192."): threading.Thread(target=udp).start()
'
ip netns exec $(ns w) python3 -c "$SERVE" 192.168.206.1 > "$out/server-w.txt" 2>&1 & SW=$!
ip netns exec $(ns c) python3 -c "$SERVE" 10.0.3.1 > "$out/server-c.txt" 2>&1 & SC=$!
sleep 0.5
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SW $SC 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
ip netns exec $(ns rt) python3 -c '
import socket,time
def conn(port,dst):
  s=socket.socket(); s.bind(("0.0.0.0",port)); s.settimeout(5); s.connect(dst)
  print("rt: tcp %s:%d -> %s:%d connected" % (s.getsockname()+dst), flush=True)
  s.sendall(b"hello"); print("rt: got", s.recv(200), flush=True); return s
a=conn(45000,("10.96.0.10",80)); time.sleep(0.2)
b=conn(45001,("10.96.0.11",80))
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("0.0.0.0",45053)); u.settimeout(3)
u.sendto(b"query",("10.96.0.10",53)); print("rt: udp got", u.recvfrom(100), flush=True)
open("/tmp/'$P'.open","w").close(); time.sleep(1.5)
a.close(); time.sleep(0.2); b.close(); time.sleep(0.5); print("rt: closed", flush=True)
' > "$out/client.txt" & CL=$!
for i in $(seq 50); do [ -e /tmp/$P.open ] && break; sleep 0.1; done; rm -f /tmp/$P.open
sockets rt "$out"
inns rt conntrack -L > "$out/conntrack-L-open.txt" 2>/dev/null || true
wait $CL
stop_capture
snapshot rt "$out"
kill $EV 2>/dev/null || true; wait $SW $SC 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
