#!/usr/bin/env bash
# IPv4 cases of `nft monitor trace` that log-trace-nft does not show: nft-trace-probe.sh OUTFILE.
# One namespace, lo only: UDP datagrams to 127.0.0.1:9 (closed) traced in an ip table's output
# chain, one with the data 00 00 00 01, one with IP options (NOP NOP NOP EOL), and the ICMP port
# unreachable each gets; an inet table's output chain after it shows the same packets in an inet
# table. OUTFILE is what nft monitor trace printed: fixtures/kernel-experiments/nft-trace-probe/
# nft-monitor-trace.txt, which test/trace/nft-payload.test.ts compares natsim with.
set -eu
out=${1:?out file}
N=${NS_PREFIX:-oq}probe$$
ip netns add $N; M=
trap '[ -n "$M" ] && { kill $M 2>/dev/null || true; wait $M 2>/dev/null || true; }; ip netns del $N' EXIT
ip -n $N link set lo up
ip netns exec $N nft -f - <<'R'
table ip t4 {
	chain out { type filter hook output priority 0; policy accept;
		udp dport 9 meta nftrace set 1
		icmp type destination-unreachable meta nftrace set 1
	}
}
table inet ti {
	chain out { type filter hook output priority 10; policy accept; }
}
R
ip netns exec $N nft monitor trace > "$out" 2>&1 & M=$!
sleep 0.5
ip netns exec $N python3 -c '
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"\x00\x00\x00\x01", ("127.0.0.1", 9)); time.sleep(0.2)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x01\x01\x01\x00")
u.sendto(b"x", ("127.0.0.1", 9)); time.sleep(0.3)
'
sleep 0.5
