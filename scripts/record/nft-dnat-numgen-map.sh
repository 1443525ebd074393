#!/usr/bin/env bash
# nft DNAT through a numgen-keyed anonymous map of address . port: 14 short TCP connections from
# the client to 10.96.0.20:80 are spread at random over 10.0.1.2:8080 and 10.0.1.3:8080, two
# addresses of the backend namespace b behind rt's third interface eth2 (10.0.1.254/24).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
backend_b
inns rt nft -f - <<'R'
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 10.96.0.20 tcp dport 80 dnat to numgen random mod 2 map { 0 : 10.0.1.2 . 8080, 1 : 10.0.1.3 . 8080 }
	}
}
R
N=14
# server: per connection, answer with the address it was reached at, wait for the client's FIN, close
ip netns exec $(ns b) python3 -c '
import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("0.0.0.0",8080)); s.listen(8); s.settimeout(20)
try:
  for _ in range(int(sys.argv[1])):
    c,a=s.accept(); c.settimeout(5); d=c.recv(100); c.sendall(b"pong from %s: %s" % (c.getsockname()[0].encode(), d))
    while c.recv(100): pass
    c.close()
except Exception: pass
' $N & SRV=$!
sleep 0.5
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
inns c python3 -c '
import socket,sys,time
for i in range(int(sys.argv[1])):
  port=44001+i
  s=socket.socket(); s.bind(("10.0.3.1",port)); s.settimeout(5); s.connect(("10.96.0.20",80))
  s.sendall(b"hello%d" % port); print("%d: %s" % (port,s.recv(100).decode()), flush=True); time.sleep(0.05); s.close(); time.sleep(0.1)
' $N > "$out/client.txt"
stop_capture
snapshot rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
