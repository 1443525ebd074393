#!/usr/bin/env bash
# When the retransmission timer gives up (tcp_write_timeout, retransmits_timed_out): one
# masqueraded connection 43006 -> w:80 through rt whose forward chain drops every data segment of
# it; c has tcp_retries2 3 (tcp_model_timeout(3, TCP_RTO_MIN): 3 s after the first
# retransmission). The client sends 300 bytes and waits for the error; client.txt has its time.
# nstat -az on c after it, conntrack -E and a capture on rt.
NS_PREFIX=tcprto-
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
masq_nft
inns rt nft -f - <<'R'
table ip filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		tcp sport 43006 ip length > 100 drop
	}
}
R
inns c sysctl -qw net.ipv4.tcp_retries2=3
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
ip netns exec $(ns w) timeout 12 python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",80)); s.listen(5); s.settimeout(10)
c,a=s.accept(); c.settimeout(9)
try: print("server: got %r" % len(c.recv(300)), flush=True)
except Exception as e: print("server:", repr(e), flush=True)
' > "$out/server.txt" 2>&1 & SRV=$!
sleep 0.5
start_capture rt "$out"
inns c timeout 10 python3 -c '
import socket,time
s=socket.socket(); s.bind(("10.0.3.1",43006)); s.settimeout(9)
t=time.time(); s.connect(("192.168.206.1",80)); s.sendall(b"q"*300)
try: s.recv(300); print("43006 got data")
except OSError as e: print("43006: %s %.3f s after connect" % (e.strerror or repr(e), time.time()-t), flush=True)
' > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
inns c nstat -az TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPLossProbes TcpExtTCPAbortOnTimeout TcpEstabResets > "$out/nstat-c.txt"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"
uname -r > "$out/uname.txt"; { zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)"; } | grep -E "^CONFIG_HZ=" > "$out/config-hz.txt"
kill $EV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
