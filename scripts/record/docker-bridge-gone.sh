#!/usr/bin/env bash
# A docker-style host rt (as docker-bridge.sh, br_netfilter on) whose published port 8080 still
# DNATs to 172.17.0.2:80 after that container is gone: its veth is deleted with it, and no host
# on docker0 holds 172.17.0.2. Does the kernel queue the DNATed frame in the neighbour's
# arp_queue and answer it with host unreachable when ARP fails — for the bridged DNAT
# (br_nf_pre_routing_finish_bridge → neigh->output, ct2 on the bridge) as for the routed one
# (w from outside)? Traffic: ct2 (172.17.0.3) and w (192.168.206.1) each connect once to
# 192.168.206.250:8080 (tcp_syn_retries 3, 8 s socket timeout); client.txt says how each ended.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
mkns rt w ct2
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { echo "br_netfilter is not loaded (modprobe br_netfilter)" >&2; exit 1; }
link rt eth0 w eth0
inns rt ip link add docker0 type bridge
inns rt ip addr add 172.17.0.1/16 dev docker0; inns rt ip link set docker0 up
link rt vethc2 ct2 eth0
inns rt ip link set vethc2 master docker0
inns rt ip link set vethc2 type bridge_slave hairpin on
inns rt ip addr add 192.168.206.250/24 dev eth0
inns rt sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
inns w ip addr add 192.168.206.1/24 dev eth0; inns w ip route add default via 192.168.206.250
inns ct2 ip addr add 172.17.0.3/16 dev eth0; inns ct2 ip route add default via 172.17.0.1
for r in ct2 w; do inns $r sysctl -qw net.ipv4.tcp_syn_retries=3; done
. "$(dirname "$0")/docker-host.sh"
docker_iptables rt
inns rt iptables-save > "$out/iptables-save.txt"
CLIENT='
import socket,sys,time
what,src,sport,dst,dport=sys.argv[1],sys.argv[2],int(sys.argv[3]),sys.argv[4],int(sys.argv[5])
t0=time.time()
s=socket.socket(); s.bind((src,sport)); s.settimeout(8)
try:
  s.connect((dst,dport)); print("%s %s:%d -> %s:%d: connected" % (what,src,sport,dst,dport), flush=True)
except OSError as e: print("%s %s:%d -> %s:%d: failed after %.3f s: %s" % (what,src,sport,dst,dport,time.time()-t0,e), flush=True)
'
# docker0's IGMP reports as it comes up (the kernel's own, natsim does not make them) are done by then
sleep 3
inns rt conntrack -F 2>/dev/null || true
inns rt bridge -j -s fdb show br docker0 > "$out/bridge-fdb.json"
start_capture rt "$out"
{
  inns ct2 python3 -c "$CLIENT" bridged-dnat 172.17.0.3 40002 192.168.206.250 8080 & C1=$!
  sleep 0.5
  inns w python3 -c "$CLIENT" routed-dnat 192.168.206.1 40004 192.168.206.250 8080 & C2=$!
  wait $C1 $C2   # not tcpdump's
} > "$out/client.txt" 2>&1
# ct2's last SYN goes as the errors come and begins a round of its own: let it fail in the capture
sleep 4
stop_capture
docker_snapshot rt "$out"
inns rt ip -s neigh show > "$out/neigh.txt" || true
finish "$out"
