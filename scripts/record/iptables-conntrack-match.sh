#!/usr/bin/env bash
# -m conntrack's options beyond --ctstate (xt_conntrack conntrack_mt): a router forwarding through
# an iptables FORWARD chain of policy DROP whose accepts and drops test the entry's tuples, ports,
# protocol, status, NAT state and the packet's direction; a DNAT of 10.0.3.254:8080 to
# 192.168.206.1:80 in front. Which packets leave rt is what natsim must reproduce.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns rt iptables-restore <<'R'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.0.3.254/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.206.1:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack ! --ctstatus SEEN_REPLY --ctdir REPLY -j DROP
-A FORWARD -p tcp -m conntrack --ctstate DNAT --ctorigdstport 8080 --ctreplsrcport 80 -j ACCEPT
-A FORWARD -p udp -m conntrack --ctproto udp ! --ctorigdstport 9 --ctorigsrc 10.0.3.0/24 -j ACCEPT
-A FORWARD -p icmp -m conntrack --ctorigsrc 10.0.3.2 --ctorigdst 192.168.206.1 -j ACCEPT
-A FORWARD -p tcp -m conntrack --ctstate NEW,ESTABLISHED --ctdir ORIGINAL --ctorigdst 192.168.206.1 --ctorigdstport 80 -j ACCEPT
-A FORWARD -m conntrack --ctdir REPLY --ctreplsrc 192.168.206.1 --ctreplsrcport 80 ! --ctstate DNAT -j ACCEPT
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
tcp_pong w 192.168.206.1 80 2 & SRV=$!
udp_answer w 192.168.206.1 53 & SRV="$SRV $!"
sleep 0.5
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. ping 10.0.3.2 -> 192.168.206.1 (accepted by --ctorigsrc 10.0.3.2), then 10.0.3.1 (the policy drops it)"
  inns c python3 "$CRAFT" ping 10.0.3.2 192.168.206.1 3 16962
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 2 16963
  echo "# 2. tcp 10.0.3.1:43000 -> 10.0.3.254:8080, DNATed to 192.168.206.1:80 (--ctstate DNAT, both ways)"
  tcp_ping c 10.0.3.1 43000 10.0.3.254 8080
  echo "# 3. tcp 10.0.3.1:43001 -> 192.168.206.1:80 (--ctdir ORIGINAL --ctorigdstport 80; replies by --ctreplsrcport 80 ! --ctstate DNAT)"
  tcp_ping c 10.0.3.1 43001 192.168.206.1 80
  echo "# 4. udp 10.0.3.1:40053 -> :53 and its answer (! --ctorigdstport 9), udp 10.0.3.1:40009 -> :9 (the policy drops it)"
  inns c python3 -c '
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("10.0.3.1",40053)); u.settimeout(3)
u.sendto(b"query",("192.168.206.1",53)); print("udp got", u.recvfrom(100))
v=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); v.bind(("10.0.3.1",40009)); v.sendto(b"discard",("192.168.206.1",9)); print("udp 9 sent")'
  sleep 0.3
  echo "# 5. unsolicited tcp SYN 192.168.206.1:41000 -> 10.0.3.1:22 (NEW from the WAN: the policy drops it)"
  inns w python3 "$CRAFT" tcp 192.168.206.1 41000 10.0.3.1 22 S 5000
  sleep 0.5
} > "$out/client.txt" 2>&1
stop_capture
snapshot_counted rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
