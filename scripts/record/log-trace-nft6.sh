#!/usr/bin/env bash
# nf_tables tracing of IPv6 packets on the router of topo6-basic: log-trace-nft6.sh OUTDIR.
# An inet table (nft) sets `meta nftrace set 1` for an ICMPv6 echo request (traffic class 0xb9:
# dscp ef, ecn ect1), UDP datagrams to w's ports 5300 (answered; the answer traced too) and 9
# (closed: one with a destination options header, one with a hop-by-hop header, 1.1 s apart so
# that each gets its ICMPv6 port unreachable, traced on its way back); ip6tables-nft's raw table
# TRACEs TCP from eth1: a connection to w:8080. A traced packet is traced in every later base
# chain of either, so both tools see both: `nft monitor trace` (nft-monitor-trace.txt) and
# `xtables-monitor --trace -6` (xtables-monitor.txt) run in rt during the recording.
# xtables-monitor 1.8.9 looks up each traced rule to print it as iptables does, and exits on the
# inet table's `meta l4proto { tcp, udp }` ("Parsing nftables rule failed"): -6 keeps it to the
# ip6 tables. It exits so on an ip6tables rule with a port match too (`-p tcp -m tcp --dport
# 8080`; xtables-monitor sets itself up for IPv4, nft_init(&h, AF_INET), likely the cause),
# hence the raw table's plain `-p tcp`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mkdir -p "$out"
NATSIM="$(cd "$(dirname "$0")/../.." && pwd)/bin/natsim.js"
C6="$(dirname "$0")/client6.py"
. "$(dirname "$0")/topo6-basic.sh"
MON=()
# the monitors ignore SIGINT in the background (no job control): TERM them, then wait for them
# only; one that has exited already must not stop the script (set -e) before the teardown
stop_monitors(){ local p
  for p in "${MON[@]:-}"; do [ -n "$p" ] && { kill -TERM $p 2>/dev/null || true; wait $p 2>/dev/null || true; }; done; MON=(); }
trap 'stop_monitors; teardown' EXIT
inns rt nft -f - <<'R'
table inet t6 {
	chain prerouting {
		type filter hook prerouting priority -350; policy accept;
		iifname "eth1" icmpv6 type echo-request meta nftrace set 1
		iifname "eth1" udp dport 5300 meta nftrace set 1
		iifname "eth1" udp dport 9 meta nftrace set 1
		iifname "eth0" udp sport 5300 meta nftrace set 1
		iifname "eth0" icmpv6 type destination-unreachable meta nftrace set 1
	}
	chain forward {
		type filter hook forward priority 10; policy accept;
		ct state established,related counter accept
		meta l4proto { tcp, udp } counter accept
	}
}
R
inns rt ip6tables-nft-restore <<'R'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i eth1 -p tcp -j TRACE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -p ipv6-icmp -j ACCEPT
-A FORWARD -i eth1 -o eth0 -j ACCEPT
COMMIT
R
settle6
inns w python3 "$C6" serve fd00:206::1 8080 5300 > "$out/server.txt" 2>&1 & SRV=$!
ip netns exec $(ns rt) xtables-monitor --trace -6 > "$out/xtables-monitor.txt" 2>&1 & MON+=($!)
ip netns exec $(ns rt) nft monitor trace > "$out/nft-monitor-trace.txt" 2>&1 & MON+=($!)
sleep 0.5
start_capture rt "$out"
{
  inns c python3 "$C6" ping fd00:3::1 fd00:206::1 4242 0xb9
  sleep 0.3
  inns c python3 "$C6" tcp fd00:3::1 41000 fd00:206::1 8080
  inns c python3 "$C6" udp fd00:3::1 41001 fd00:206::1 5300
  sleep 0.3
  inns c python3 "$C6" udp-ext fd00:3::1 41002 fd00:206::1 9 dst
  sleep 1.1
  inns c python3 "$C6" udp-ext fd00:3::1 41003 fd00:206::1 9 hop
  sleep 0.5
} > "$out/client.txt" 2>&1
stop_capture
wait $SRV 2>/dev/null || true
stop_monitors
node "$NATSIM" snapshot "$out" --netns $(ns rt) > /dev/null
inns rt conntrack -L -f ipv6 > "$out/conntrack-L.txt" 2>/dev/null || true
inns rt conntrack -S > "$out/conntrack-S.txt" 2>/dev/null || true
finish "$out"
