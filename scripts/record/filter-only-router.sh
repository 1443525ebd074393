#!/usr/bin/env bash
# A router with no NAT, only a stateful nft forward chain (policy drop; established,related
# accept; invalid drop; new from the LAN side eth1 accept): LAN-opened ping, TCP and UDP pass both
# ways; an unsolicited WAN->LAN UDP datagram and TCP SYN meet the policy; crafted SYN+FIN and
# SYN+RST segments and an ICMP error that relates to nothing are INVALID and dropped.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
stateful_forward_nft
ip netns exec $(ns w) python3 -c '
import socket,time,threading
def tcp():
  s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",80)); s.listen(1); s.settimeout(10)
  c,_=s.accept(); d=c.recv(100); c.sendall(b"pong:"+d); c.recv(100); c.close()
def udp():
  u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("192.168.206.1",53)); u.settimeout(10)
  d,a=u.recvfrom(100); u.sendto(b"answer:"+d,a)
for f in (tcp,udp): threading.Thread(target=f).start()
' & SRV=$!
sleep 0.5
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. ping 192.168.206.1 (3 echoes, id 0x4242)"
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 3 16962
  echo "# 2. tcp 10.0.3.1:43000 -> 192.168.206.1:80"
  inns c python3 -c '
import socket,time
s=socket.socket(); s.bind(("10.0.3.1",43000)); s.settimeout(5); s.connect(("192.168.206.1",80))
s.sendall(b"ping"); print("tcp got", s.recv(100)); time.sleep(0.2); s.close(); time.sleep(0.5)'
  echo "# 3. udp 10.0.3.1:40053 -> 192.168.206.1:53"
  inns c python3 -c '
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("10.0.3.1",40053)); u.settimeout(3)
u.sendto(b"query",("192.168.206.1",53)); print("udp got", u.recvfrom(100))'
  echo "# 4. unsolicited from the WAN side (rt drops them by policy): udp 192.168.206.1:40999 -> 10.0.3.1:9, tcp SYN 192.168.206.1:41000 -> 10.0.3.1:22"
  inns w python3 -c '
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("192.168.206.1",40999)); u.sendto(b"knock",("10.0.3.1",9)); print("w sent udp")'
  sleep 0.2
  inns w python3 "$CRAFT" tcp 192.168.206.1 41000 10.0.3.1 22 S 5000
  sleep 0.3
  echo "# 5. INVALID from the LAN side (ct state invalid drop): SYN+FIN, SYN+RST, ICMP port unreachable about nothing"
  inns c python3 "$CRAFT" tcp 10.0.3.1 43001 192.168.206.1 80 SF 7000
  sleep 0.2
  inns c python3 "$CRAFT" tcp 10.0.3.1 43002 192.168.206.1 80 SR 8000
  sleep 0.2
  inns c python3 "$CRAFT" icmp-unreach 10.0.3.1 192.168.206.1 192.168.206.1 53 10.0.3.1 40777
  sleep 0.5
} > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
