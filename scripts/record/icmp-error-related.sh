#!/usr/bin/env bash
# ICMP errors through nft masquerade: errors RELATED to UDP and TCP entries are de-NATed (outer and
# embedded header); errors rt generates itself before NAT (TTL expired in forward) and after NAT
# (neighbour resolution failed) for contrast; one ping answered normally.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
masq_nft
# a network behind the server: rt routes it via w, w forwards (for the TTL-2 time exceeded from w)
inns rt ip route add 198.51.100.0/24 via 192.168.206.1 dev eth0
inns w sysctl -qw net.ipv4.ip_forward=1
# the server rejects tcp/81 with an ICMP error; nothing listens on udp/9
inns w nft -f - <<'R'
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 81 reject with icmp type host-unreachable
	}
}
R
sleep 0.5
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
inns c python3 -c '
import socket,struct,select,time,errno
IP_RECVERR=11
def why(s,wait):
  # first error-queue entry of s (IP_RECVERR): origin, icmp type/code, offender
  end=time.time()+wait; p=select.poll(); p.register(s,select.POLLERR)
  while time.time()<end:
    p.poll(max(0,end-time.time())*1000)
    try: _,anc,_,_=s.recvmsg(512,512,socket.MSG_ERRQUEUE)
    except BlockingIOError: time.sleep(0.05); continue
    for lvl,typ,d in anc:
      if lvl==socket.IPPROTO_IP and typ==IP_RECVERR:
        e,orig,t,c,_,info,_=struct.unpack("=IBBBBII",d[:16]); off=socket.inet_ntoa(d[20:24])
        return "errno=%s origin=%d icmp type=%d code=%d offender=%s" % (errno.errorcode.get(e,e),orig,t,c,off)
  return "no error"
def udp(sport,dst,ttl=None,wait=1.0):
  u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("10.0.3.1",sport)); u.setblocking(False)
  u.setsockopt(socket.IPPROTO_IP,IP_RECVERR,1)
  if ttl: u.setsockopt(socket.IPPROTO_IP,socket.IP_TTL,ttl)
  u.connect(dst); u.send(b"probe%d"%sport)
  print("udp 10.0.3.1:%d -> %s:%d ttl=%s:" % (sport,dst[0],dst[1],ttl or 64), why(u,wait), flush=True); u.close()
udp(40001,("192.168.206.1",9)); time.sleep(0.3)
t=socket.socket(); t.bind(("10.0.3.1",40002)); t.settimeout(3)
try: t.connect(("192.168.206.1",81)); print("tcp 10.0.3.1:40002 -> 192.168.206.1:81: connected")
except OSError as e: print("tcp 10.0.3.1:40002 -> 192.168.206.1:81:", errno.errorcode.get(e.errno,e.errno), e.strerror, flush=True)
t.close(); time.sleep(0.3)
udp(40003,("192.168.206.1",9),ttl=1); time.sleep(0.3)
udp(40004,("198.51.100.7",9),ttl=2); time.sleep(0.3)
udp(40005,("192.168.206.99",9),wait=5.0); time.sleep(0.3)
' > "$out/client.txt"
inns c ping -n -c 1 -W 1 192.168.206.1 >> "$out/client.txt" 2>&1 || true
stop_capture
snapshot rt "$out"
kill $EV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
