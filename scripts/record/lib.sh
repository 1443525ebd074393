# Shared helpers for recording kernel cases. Source it; call setup_ns, link, then start_capture,
# run traffic, snapshot, and the EXIT trap tears everything down.
set -eu
P=${NS_PREFIX:-oq}$$
NSES=()
TD=
ns(){ echo "${P}$1"; }                  # namespace name for a role
mkns(){ local n; for r in "$@"; do n=$(ns $r); ip netns add $n; NSES+=($n); ip -n $n link set lo up;
  ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=${V6:-1} net.ipv6.conf.default.disable_ipv6=${V6:-1}; done; }
# link ROLE_A IFNAME_A ROLE_B IFNAME_B
link(){ ip link add $2 netns $(ns $1) type veth peer name $4 netns $(ns $3); ip -n $(ns $1) link set $2 up; ip -n $(ns $3) link set $4 up; }
inns(){ local r=$1; shift; ip netns exec $(ns $r) "$@"; }
teardown(){ if [ -n "$TD" ]; then kill -INT $TD 2>/dev/null || true; wait $TD 2>/dev/null || true; fi; [ -n "$TDERR" ] && rm -f "$TDERR"
  # a namespace can be busy for a moment after its processes were killed: try again, and go on
  # to the others (under set -e a failed del ended the trap and left them all behind)
  for n in "${NSES[@]:-}"; do [ -n "$n" ] || continue
    ip netns del $n 2>/dev/null || { sleep 1; ip netns del $n; } || echo "could not delete namespace $n" >&2; done; true; }
trap teardown EXIT
# --immediate-mode makes libpcap use TPACKET_V2, whose ring slots are sized for the 262144-byte
# snaplen: the default 2 MiB buffer holds only a few packets and a burst (every forwarded packet
# is seen twice, In and Out) was dropped by the kernel. -B 65536 (KiB) gives it hundreds of slots;
# stop_capture fails the recording if tcpdump still reports kernel drops.
TDERR=
start_capture(){ # role outdir
  TDERR=$(mktemp)
  ip netns exec $(ns $1) tcpdump --immediate-mode -B 65536 -i any -U -w "$2/capture.pcap" 2>"$TDERR" & TD=$!; sleep 1; }
stop_capture(){ sleep 1; kill -INT $TD; wait $TD 2>/dev/null || true; TD=
  local st; st=$(grep -E 'packets? (captured|received by filter|dropped by kernel)' "$TDERR" | tr '\n' ' '); rm -f "$TDERR"
  echo "tcpdump: $st" >&2
  case "$st" in *" 0 packets dropped by kernel"*) ;; *) echo "capture incomplete (kernel drops), record again" >&2; return 1;; esac; }
snapshot(){ # role outdir
  local r=$1 o=$2
  inns $r conntrack -L > "$o/conntrack-L.txt" 2>/dev/null || true
  inns $r conntrack -S > "$o/conntrack-S.txt" 2>/dev/null || true
  inns $r nft list ruleset > "$o/nft-ruleset.txt" 2>/dev/null || true
  inns $r ip -j link > "$o/ip-link.json"
  inns $r ip -j addr > "$o/ip-addr.json"
  inns $r ip -j route show table all > "$o/ip-route.json"
  inns $r sysctl -a 2>/dev/null | grep -E 'nf_conntrack|ip_forward|ip_local_port_range|tcp_syn_retries|\.(rp_filter|accept_local|route_localnet|send_redirects|shared_media) ' > "$o/sysctl.txt" || true
}
finish(){ # outdir: human-readable capture (interface names, or "?" where the reading host has none, dropped)
  tcpdump -r "$1/capture.pcap" -nn -e 2>/dev/null | sed -E 's/^([0-9:.]+) ([a-z0-9]+|\?) +/\1 /' > "$1/capture.txt"; }
# crafted packets (raw sockets; ping may be missing): python3 "$CRAFT" ping|tcp|icmp-unreach ...
CRAFT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/craft.py"
sockets(){ # role outdir: the role's sockets (ss, /proc/net/tcp, /proc/net/udp)
  inns $1 ss -tuanpH > "$2/sockets.txt" 2>/dev/null || true
  inns $1 cat /proc/net/tcp > "$2/proc-net-tcp.txt"; inns $1 cat /proc/net/udp > "$2/proc-net-udp.txt"; }
# pcapng instead (dumpcap, from wireshark-common), LINUX_SLL2 as tcpdump -i any writes it;
# stop_capture_pcapng fails the recording if dumpcap reports drops
start_capture_pcapng(){ # role outdir
  TDERR=$(mktemp)
  ip netns exec $(ns $1) dumpcap -q -i any -y LINUX_SLL2 -B 64 -w "$2/capture.pcapng" 2>"$TDERR" & TD=$!; sleep 1.5; }
stop_capture_pcapng(){ sleep 1; kill -INT $TD; wait $TD 2>/dev/null || true; TD=
  local st; st=$(grep -E 'Packets (captured|received/dropped)' "$TDERR" | tr '\n' ' '); rm -f "$TDERR"
  echo "dumpcap: $st" >&2
  case "$st" in *"received/dropped on interface 'any': "*"/0 (pcap:0/dumpcap:0/flushed:0"*) ;; *) echo "capture incomplete (drops), record again" >&2; return 1;; esac; }
# Traffic helpers of the x_tables cases (python3 sockets; ping and nc may be missing).
# tcp_ping ROLE SRC SPORT DST DPORT: a connection that sends "ping", prints the answer, closes
tcp_ping(){ inns $1 python3 -c "
import socket,time
s=socket.socket(); s.bind(('$2',$3)); s.settimeout(5); s.connect(('$4',$5))
s.sendall(b'ping'); print('tcp $3 got', s.recv(100)); time.sleep(0.2); s.close(); time.sleep(0.5)"; }
# tcp_pong ROLE ADDR PORT [N]: answers N (1) connections with "pong:" and what they sent (run it with &)
tcp_pong(){ inns $1 python3 -c "
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('$2',$3)); s.listen(2); s.settimeout(15)
for _ in range(${4:-1}):
  c,_=s.accept(); d=c.recv(100); c.sendall(b'pong:'+d); c.recv(100); c.close()"; }
# udp_answer ROLE ADDR PORT: answers one datagram with "answer:" and it (run it with &)
udp_answer(){ inns $1 python3 -c "
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(('$2',$3)); u.settimeout(15)
d,a=u.recvfrom(100); u.sendto(b'answer:'+d,a)"; }
# udp_sink ROLE ADDR PORT: takes datagrams without answering (no port unreachable) until 6 s pass without one (run it with &)
udp_sink(){ inns $1 python3 -c "
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(('$2',$3)); u.settimeout(6)
try:
  while True: u.recvfrom(200)
except socket.timeout: pass"; }
# snapshot_counted ROLE OUTDIR: the snapshot, iptables-save -c's rule counts, the CPUs (conntrack -S has a line per CPU)
snapshot_counted(){ snapshot $1 "$2"; inns $1 iptables-save -c > "$2/iptables-save-c.txt"; cat /sys/devices/system/cpu/online > "$2/cpu-online.txt"; }
