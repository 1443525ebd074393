#!/usr/bin/env bash
# A docker-style host rt: bridge docker0 172.17.0.1/16 with two containers on veths (ct1
# 172.17.0.2 publishing 8080 -> 80, ct2 172.17.0.3), uplink eth0 192.168.206.250 to the outside
# host w 192.168.206.1, and docker's iptables rules (userland-proxy off, so hairpin is NATed by
# the kernel; hairpin mode on the bridge ports). `docker-bridge.sh OUTDIR on|off` sets net.bridge.bridge-nf-call-iptables in rt
# (br_netfilter: bridged frames go through the IPv4 hooks and conntrack, or do not). Traffic:
# container to container, container to the other's published port (hairpin), container to its
# own published port (hairpin with MASQUERADE), outside to the published port, container out
# through MASQUERADE.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; brnf=${2:?on|off}; mkdir -p "$out"
case $brnf in on) BRNF=1;; off) BRNF=0;; *) echo "on or off" >&2; exit 2;; esac
mkns rt w ct1 ct2
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { echo "br_netfilter is not loaded (modprobe br_netfilter)" >&2; exit 1; }
link rt eth0 w eth0
inns rt ip link add docker0 type bridge
inns rt ip addr add 172.17.0.1/16 dev docker0; inns rt ip link set docker0 up
link rt vethc1 ct1 eth0; link rt vethc2 ct2 eth0
inns rt ip link set vethc1 master docker0; inns rt ip link set vethc2 master docker0
# docker turns hairpin mode on for its veths when the userland proxy is off: with br_netfilter, a
# container's packet DNATed to itself is bridged back out the port it came in by
inns rt ip link set vethc1 type bridge_slave hairpin on; inns rt ip link set vethc2 type bridge_slave hairpin on
inns rt ip addr add 192.168.206.250/24 dev eth0
inns rt sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=$BRNF
inns w ip addr add 192.168.206.1/24 dev eth0; inns w ip route add default via 192.168.206.250
inns ct1 ip addr add 172.17.0.2/16 dev eth0; inns ct1 ip route add default via 172.17.0.1
inns ct2 ip addr add 172.17.0.3/16 dev eth0; inns ct2 ip route add default via 172.17.0.1
for r in ct1 ct2 w; do inns $r sysctl -qw net.ipv4.tcp_syn_retries=1; done
. "$(dirname "$0")/docker-host.sh"
docker_iptables rt
inns rt iptables-save > "$out/iptables-save.txt"
SERVE='
import socket,sys,threading
port,n=int(sys.argv[1]),int(sys.argv[2])
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("0.0.0.0",port)); s.listen(8); s.settimeout(25)
def serve(c,a):
  c.settimeout(5)
  try:
    d=c.recv(100); c.sendall(("pong from %s:%d to %s:%d: " % (c.getsockname()+a)).encode()+d)
    while c.recv(100): pass
  except Exception: pass
  c.close()
try:
  for _ in range(n):
    c,a=s.accept(); threading.Thread(target=serve,args=(c,a)).start()
except Exception: pass
'
ip netns exec $(ns ct1) python3 -c "$SERVE" 80 3 & S1=$!
ip netns exec $(ns ct2) python3 -c "$SERVE" 81 1 & S2=$!
ip netns exec $(ns w) python3 -c "$SERVE" 80 1 & S3=$!
sleep 0.5
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $S1 $S2 $S3 2>/dev/null || true; teardown' EXIT
CLIENT='
import socket,sys,time
what,src,sport,dst,dport=sys.argv[1],sys.argv[2],int(sys.argv[3]),sys.argv[4],int(sys.argv[5])
s=socket.socket(); s.bind((src,sport)); s.settimeout(3)
try:
  s.connect((dst,dport)); s.sendall(b"hello%d" % sport); print("%s %s:%d -> %s:%d: %s" % (what,src,sport,dst,dport,s.recv(100).decode()), flush=True)
  time.sleep(0.05); s.close()
except OSError as e: print("%s %s:%d -> %s:%d: failed: %s" % (what,src,sport,dst,dport,e), flush=True)
time.sleep(0.3)
'
# docker0's own IGMP reports from when it came up are tracked before the capture starts: flush them,
# so that conntrack-L.txt holds only what the capture shows
inns rt conntrack -F 2>/dev/null || true
# the bridge's forwarding database as the capture starts (bridge_fdb: learned entries and their age)
inns rt bridge -j -s fdb show br docker0 > "$out/bridge-fdb.json"
start_capture rt "$out"
{
  inns ct1 python3 -c "$CLIENT" container-to-container 172.17.0.2 40001 172.17.0.3 81
  inns ct2 python3 -c "$CLIENT" hairpin-other 172.17.0.3 40002 192.168.206.250 8080
  inns ct1 python3 -c "$CLIENT" hairpin-self 172.17.0.2 40003 192.168.206.250 8080
  inns w python3 -c "$CLIENT" outside 192.168.206.1 40004 192.168.206.250 8080
  inns ct1 python3 -c "$CLIENT" container-out 172.17.0.2 40005 192.168.206.1 80
} > "$out/client.txt" 2>&1
stop_capture
docker_snapshot rt "$out"
kill $EV $S1 $S2 $S3 2>/dev/null || true; wait $EV $S1 $S2 $S3 2>/dev/null || true
finish "$out"
