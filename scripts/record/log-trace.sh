#!/usr/bin/env bash
# LOG and TRACE through iptables on the router of topo-basic: log-trace.sh OUTDIR legacy|nft.
# The same rules go in with iptables-legacy-restore or iptables-nft-restore; LOG prints the
# nf_log_syslog line either way, TRACE prints ip_tables' "TRACE: table:chain:type:N" lines to the
# kernel log with legacy and becomes `meta nftrace set 1` with nft (read by xtables-monitor
# --trace, and nft monitor trace). Traffic: one UDP datagram with IP options (NOP NOP NOP EOL) to
# a closed port (w answers port unreachable), one TCP connection to w:8080 (traced), two pings
# (the echo requests traced). The kernel log lines of the run are dmesg.txt (`dmesg -r`, level
# included); nf_log_all_netns is 1 during the run and put back afterwards.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; backend=${2:?legacy or nft}; mkdir -p "$out"
case "$backend" in legacy|nft) ;; *) echo "backend must be legacy or nft" >&2; exit 2;; esac
NATSIM="$(cd "$(dirname "$0")/../.." && pwd)/bin/natsim.js"
. "$(dirname "$0")/topo-basic.sh"
OLD_ALL_NETNS=$(sysctl -n net.netfilter.nf_log_all_netns)
MON=()
# the monitors ignore SIGINT in the background (no job control): TERM them, then wait for them only
stop_monitors(){ for p in "${MON[@]:-}"; do [ -n "$p" ] && { kill -TERM $p 2>/dev/null; wait $p 2>/dev/null || true; }; done; MON=(); }
cleanup(){ stop_monitors; sysctl -qw net.netfilter.nf_log_all_netns=$OLD_ALL_NETNS; teardown; }
trap cleanup EXIT
sysctl -qw net.netfilter.nf_log_all_netns=1
# TRACE (nf_log_trace) needs the netns's own logger; nf_log_syslog binds it in every netns
inns rt sysctl net.netfilter.nf_log.2 > "$out/nf_log.txt"
[ "$(inns rt sysctl -n net.netfilter.nf_log.2)" = nf_log_ipv4 ] || inns rt sysctl -qw net.netfilter.nf_log.2=nf_log_ipv4
inns rt iptables-$backend-restore <<'R'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i eth1 -p tcp -m tcp --dport 8080 -j TRACE
-A PREROUTING -i eth1 -p icmp -m icmp --icmp-type 8 -j TRACE
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p udp -j MARK --set-xmark 0x2a/0xffffffff
-A FORWARD -j ACCEPT
-A POSTROUTING -o eth1 -p icmp -j LOG --log-prefix "lt-post: " --log-ip-options
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 10.0.3.0/24 -o eth0 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:lt-log - [0:0]
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN -j LOG --log-prefix "lt-syn: " --log-level 6 --log-tcp-sequence --log-tcp-options
-A FORWARD -p icmp -j LOG --log-prefix "lt-icmp: " --log-macdecode
-A FORWARD -p udp -j LOG --log-prefix "lt-udp: " --log-ip-options --log-uid
-A FORWARD -j lt-log
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth1 -o eth0 -m comment --comment "lan to wan" -j ACCEPT
-A lt-log -p tcp -m tcp --tcp-flags FIN FIN -j LOG --log-prefix "lt-fin: " --log-level 7
COMMIT
R
ip netns exec $(ns w) python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",8080)); s.listen(1); s.settimeout(10)
c,_=s.accept(); c.recv(100); c.sendall(b"world\n"); c.close()
' & SRV=$!
if [ $backend = nft ]; then
  ip netns exec $(ns rt) xtables-monitor --trace > "$out/xtables-monitor.txt" 2>&1 & MON+=($!)
  ip netns exec $(ns rt) nft monitor trace > "$out/nft-monitor-trace.txt" 2>&1 & MON+=($!)
fi
sleep 0.5
echo "natsim-record $P start" > /dev/kmsg
start_capture rt "$out"
inns c python3 -c '
import socket,time
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.setsockopt(socket.IPPROTO_IP,socket.IP_OPTIONS,b"\x01\x01\x01\x00")
u.bind(("10.0.3.1",41001)); u.sendto(b"probe",("192.168.206.1",9)); time.sleep(0.5)
t=socket.socket(); t.bind(("10.0.3.1",41000)); t.settimeout(3); t.connect(("192.168.206.1",8080))
t.sendall(b"hello\n"); print("tcp got", t.recv(100)); t.close(); time.sleep(0.5)
' > "$out/client.txt"
inns c ping -n -c 2 -i 0.5 -W 1 192.168.206.1 >> "$out/client.txt" 2>&1 || true
stop_capture
echo "natsim-record $P end" > /dev/kmsg
wait $SRV 2>/dev/null || true
stop_monitors
# the run's lines: between the markers, only this recording's prefixes (other netns may log too)
dmesg -r | sed -n "/natsim-record $P start/,/natsim-record $P end/p" | grep -E '\] (TRACE: [a-z]+:[^ ]+ |lt-[a-z]+: )IN=' > "$out/dmesg.txt"
node "$NATSIM" snapshot "$out" --netns $(ns rt) > /dev/null
inns rt conntrack -L > "$out/conntrack-L.txt" 2>/dev/null || true
inns rt conntrack -S > "$out/conntrack-S.txt" 2>/dev/null || true
finish "$out"
