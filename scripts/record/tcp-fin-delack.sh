#!/usr/bin/env bash
# When the server's FIN carries the ACK of the client's FIN (tcp_fin: CLOSE_WAIT, pingpong mode,
# the ACK delayed by tcp_send_delayed_ack) and when the delayed-ACK timer fires first. Three
# masqueraded connections through rt (nft masquerade of 10.0.3.0/24, source ports kept), each the
# client's close first; conntrack -E on rt, capture on rt (-i any), nstat on c and w:
#   43001 -> w:80  "ping", answer "pong:ping", client closes 200 ms later; w closes at once on EOF
#   43002 -> w:81  the same, but w sleeps 500 ms after reading EOF before it closes
#   43003 -> w:82  no data either way, client closes 200 ms after connecting; w sleeps 500 ms after EOF
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
masq_nft
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
ip netns exec $(ns w) timeout 12 python3 -c '
import socket,threading,time
def serve(port, answer, wait):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",port)); s.listen(1); s.settimeout(10)
    c,a=s.accept()
    if answer: d=c.recv(100); c.sendall(b"pong:"+d)
    eof=c.recv(100); time.sleep(wait); c.close()
    print("server %d: eof %r, closed %.1f s after it" % (port, eof, wait), flush=True)
ts=[threading.Thread(target=serve,args=a) for a in ((80,True,0.0),(81,True,0.5),(82,False,0.5))]
[t.start() for t in ts]; [t.join() for t in ts]
' > "$out/server.txt" 2>&1 & SRV=$!
sleep 0.5
start_capture rt "$out"
ip netns exec $(ns c) python3 -c '
import socket,time
for sport,dport,data in ((43001,80,True),(43002,81,True),(43003,82,False)):
    s=socket.socket(); s.bind(("10.0.3.1",sport)); s.settimeout(5); s.connect(("192.168.206.1",dport))
    if data: s.sendall(b"ping"); print(sport, s.recv(100), flush=True)
    time.sleep(0.2); s.close(); time.sleep(1.0)
' > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
# the endpoints' counters (nstat -as: absolute, history untouched): TcpExtDelayedACKs counts the
# delayed-ACK timer's ACKs (tcp_delack_timer_handler), 2 expected at w
inns w nstat -as > "$out/nstat-w.txt"; inns c nstat -as > "$out/nstat-c.txt"
uname -r > "$out/uname.txt"; { zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)"; } | grep -E "^CONFIG_HZ=" > "$out/config-hz.txt"
kill $EV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
