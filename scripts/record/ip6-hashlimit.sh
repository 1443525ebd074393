#!/usr/bin/env bash
# ip6tables -m hashlimit on IPv6 sources: rt forwards the LANs fd00:3::/64 and fd00:4::/64 to w
# and drops, per source /64 (--hashlimit-srcmask 64), what goes above 2/sec with a burst of 3.
# c sends bounded bursts of UDP datagrams to [fd00:206::1]:9 (w drops them in its INPUT, so
# nothing comes back through rt): fd00:3::1 and fd00:3::2 share a bucket, fd00:4::1 has its own.
# /proc/net/ip6t_hashlimit/h6 is saved after the run (hashlimit-h6.txt).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
P=rules6hl$$ # namespace names unique to this recorder
. "$(dirname "$0")/topo6-basic.sh"
inns c ip addr add fd00:4::1/64 dev eth0 nodad
inns rt ip addr add fd00:4::254/64 dev eth1 nodad
inns w ip6tables -A INPUT -p udp --dport 9 -j DROP
inns rt ip6tables -A FORWARD -m hashlimit --hashlimit-mode srcip --hashlimit-srcmask 64 --hashlimit-above 2/sec --hashlimit-burst 3 --hashlimit-name h6 -j DROP
settle6
# burst SRC SPORT N: N datagrams to [fd00:206::1]:9 back to back from one socket
burst(){ inns c python3 -c '
import socket, sys
src, sport, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind((src, sport))
for i in range(n): s.sendto(b"burst %d" % i, ("fd00:206::1", 9))
print("sent %d from [%s]:%d" % (n, src, sport), flush=True)' "$@"; }
start_capture rt "$out"
{
  echo "# 1. 5 from fd00:3::1 (3 pass, 2 over the limit)"; burst fd00:3::1 40001 5
  echo "# 2. 3 from fd00:3::2, same /64 bucket, now empty (all over)"; burst fd00:3::2 40002 3
  echo "# 3. 5 from fd00:4::1, its own bucket (3 pass, 2 over)"; burst fd00:4::1 40003 5
  sleep 1.2
  echo "# 4. 1.2 s later: 3 from fd00:3::2 (its bucket refilled or renewed: all pass)"; burst fd00:3::2 40004 3
  sleep 3
  echo "# 5. 3 s later (the bucket expired: a new one with the burst of 3): 4 from fd00:3::1 (3 pass, 1 over)"; burst fd00:3::1 40005 4
} > "$out/client.txt" 2>&1
stop_capture
inns rt cat /proc/net/ip6t_hashlimit/h6 > "$out/hashlimit-h6.txt"
snapshot6 rt "$out"
inns rt ip6tables-save > "$out/ip6tables-save.txt"
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
finish "$out"
