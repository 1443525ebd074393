#!/usr/bin/env bash
# Retransmission of a segment netfilter dropped: a tail loss probe (tcp_send_loss_probe) with the
# default tcp_early_retrans 3, the retransmission timer (tcp_retransmit_timer) without it. Five
# masqueraded connections c -> w:80 through rt, each: the client sends 300 bytes, w answers 300,
# the client closes 1.5 s after connecting and w closes on EOF. A forward rule on rt drops the
# client's data segment (ip length > 100) or its FIN once or twice, by an inline quota of the
# segment's length (352 bytes with timestamps; a FIN 52): the retransmission passes.
#   43001 data dropped once             tcp_early_retrans 3 (default)
#   43002 data dropped twice            tcp_early_retrans 3
#   43003 FIN dropped once              tcp_early_retrans 3
#   43004 data dropped once             tcp_early_retrans 0 (no TLP)
#   43005 data dropped twice            tcp_early_retrans 0
# nstat -az on c after each connection (its counters are cumulative), conntrack -E and a capture on rt.
# nft-ruleset.txt is the ruleset before the traffic (a replay starts from it), nft-ruleset-after.txt
# after it: nft prints a quota's use capped at the quota (nft_quota_do_dump), "used 352 bytes".
NS_PREFIX=tcprto-
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
masq_nft
inns rt nft -f - <<'R'
table ip filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		tcp sport 43001 ip length > 100 quota until 352 bytes drop
		tcp sport 43002 ip length > 100 quota until 704 bytes drop
		tcp sport 43003 tcp flags & fin == fin quota until 52 bytes drop
		tcp sport 43004 ip length > 100 quota until 352 bytes drop
		tcp sport 43005 ip length > 100 quota until 704 bytes drop
	}
}
R
inns rt nft list ruleset > "$out/nft-ruleset-before.txt"
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
ip netns exec $(ns w) timeout 20 python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",80)); s.listen(5); s.settimeout(18)
for i in range(5):
    c,a=s.accept(); d=b""
    while len(d)<300: d+=c.recv(300-len(d))
    c.sendall(b"r"*300); eof=c.recv(100); c.close()
    print("server: %s:%d sent %d, eof %r" % (a[0],a[1],len(d),eof), flush=True)
' > "$out/server.txt" 2>&1 & SRV=$!
sleep 0.5
start_capture rt "$out"
: > "$out/nstat-c.txt"
for sport in 43001 43002 43003 43004 43005; do
  [ $sport = 43004 ] && inns c sysctl -qw net.ipv4.tcp_early_retrans=0
  inns c timeout 5 python3 -c '
import socket,sys,time
sport=int(sys.argv[1]); s=socket.socket(); s.bind(("10.0.3.1",sport)); s.settimeout(4)
t=time.time(); s.connect(("192.168.206.1",80)); s.sendall(b"q"*300); d=b""
while len(d)<300: d+=s.recv(300-len(d))
time.sleep(max(0,1.5-(time.time()-t))); s.close(); print(sport, "got", len(d), flush=True)
' $sport >> "$out/client.txt" 2>&1
  sleep 1
  { echo "# after $sport"; inns c nstat -az TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPLossProbes TcpExtTCPLossProbeRecovery TcpExtTCPSpuriousRtxHostQueues TcpExtTCPDSACKRecv; } >> "$out/nstat-c.txt"
done
stop_capture
snapshot rt "$out"
mv "$out/nft-ruleset.txt" "$out/nft-ruleset-after.txt"; mv "$out/nft-ruleset-before.txt" "$out/nft-ruleset.txt"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"
inns c sysctl net.ipv4.tcp_rto_min_us net.ipv4.tcp_retries2 net.ipv4.tcp_early_retrans net.ipv4.tcp_recovery net.ipv4.tcp_sack > "$out/sysctl-c.txt" 2>&1 || true
uname -r > "$out/uname.txt"; { zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)"; } | grep -E "^CONFIG_HZ=" > "$out/config-hz.txt"
kill $EV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
