#!/usr/bin/env bash
# Istio-style capture of LAN TCP to port 80 into a listener on the router itself: iptables nat
# PREROUTING REDIRECT --to-ports 15001. The client connects to 192.168.206.1:80; rt's own socket
# on :15001 answers, reads the original destination (SO_ORIGINAL_DST) and replies; the client
# closes. The router's sockets are saved while the connection is open.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt iptables-restore <<'R'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth1 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 15001
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
ip netns exec $(ns rt) python3 -c '
import socket,struct,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("0.0.0.0",15001)); s.listen(8); s.settimeout(10)
c,peer=s.accept(); d=c.getsockopt(socket.SOL_IP,80,16); port,ip=struct.unpack("!2xH4s8x",d)
orig="%s:%d" % (socket.inet_ntoa(ip),port)
print("listener: accepted %s:%d on %s:%d, SO_ORIGINAL_DST %s" % (peer+c.getsockname()+(orig,)), flush=True)
m=c.recv(100); c.sendall(b"pong:"+m+b" via "+orig.encode()); print("listener: got", m, flush=True)
print("listener: client closed" if c.recv(100)==b"" else "listener: more data", flush=True); c.close()
' > "$out/listener.txt" & SRV=$!
sleep 0.5
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
inns c python3 -c '
import socket,time
s=socket.socket(); s.bind(("10.0.3.1",43000)); s.settimeout(5); s.connect(("192.168.206.1",80))
print("client: connected 10.0.3.1:43000 -> 192.168.206.1:80", flush=True)
s.sendall(b"GET"); print("client: got", s.recv(100), flush=True); time.sleep(1.5); s.close(); time.sleep(0.5)
print("client: closed", flush=True)' > "$out/client.txt" & CL=$!
sleep 1
sockets rt "$out"
inns rt conntrack -L > "$out/conntrack-L-open.txt" 2>/dev/null || true
wait $CL
wait $SRV || true
stop_capture
snapshot rt "$out"
kill $EV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
