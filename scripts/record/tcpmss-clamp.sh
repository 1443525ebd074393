#!/usr/bin/env bash
# MSS clamping to the path MTU on a dual-stack router: rt's WAN link (eth0, and w's end of it)
# has MTU 1400, the LAN 1500. OUT [xt|nft]: `iptables`/`ip6tables -t mangle -A FORWARD -p tcp
# --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu` (xt_TCPMSS, through iptables-nft), or
# nft `tcp flags syn tcp option maxseg size set rt mtu` in an inet table (nft_exthdr + nft_rt).
# Traffic from c: a TCP connection over IPv4 and one over IPv6 (MSS 1460 and 1440 offered), then
# a crafted SYN without options over each family (TCPMSS adds the option; nft leaves it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib6.sh"
out=${1:?out dir}; mode=${2:-xt}; mkdir -p "$out"
DUAL=1 . "$(dirname "$0")/topo6-basic.sh"
C6="$(dirname "$0")/client6.py"
inns rt ip link set eth0 mtu 1400; inns w ip link set eth0 mtu 1400
case $mode in
xt) for ipt in iptables ip6tables; do inns rt $ipt -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu; done ;;
nft) inns rt nft -f - <<'R'
table inet mangle {
	chain forward {
		type filter hook forward priority mangle; policy accept;
		tcp flags syn tcp option maxseg size set rt mtu
	}
}
R
;;
*) echo "mode xt or nft" >&2; exit 2;;
esac
inns w python3 "$C6" serve 192.168.206.1 80 0 > "$out/server.txt" 2>&1 & SRV4=$!
inns w python3 "$C6" serve fd00:206::1 80 0 > "$out/server6.txt" 2>&1 & SRV6=$!
settle6
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
trap 'kill $SRV4 $SRV6 2>/dev/null || true; teardown' EXIT
start_capture rt "$out"
{
  echo "# 1. tcp 10.0.3.1:43000 -> 192.168.206.1:80 (MSS 1460 offered)"
  inns c python3 "$C6" tcp 10.0.3.1 43000 192.168.206.1 80
  echo "# 2. tcp [fd00:3::1]:43001 -> [fd00:206::1]:80 (MSS 1440 offered)"
  inns c python3 "$C6" tcp fd00:3::1 43001 fd00:206::1 80
  echo "# 3. a SYN without options 10.0.3.1:43002 -> 192.168.206.1:81 (closed: w resets)"
  inns c python3 "$CRAFT" tcp 10.0.3.1 43002 192.168.206.1 81 S
  sleep 0.3
  echo "# 4. a SYN without options [fd00:3::1]:43003 -> [fd00:206::1]:81 (closed: w resets)"
  inns c python3 "$CRAFT" tcp6 fd00:3::1 43003 fd00:206::1 81 S
  sleep 0.3
} > "$out/client.txt" 2>&1
stop_capture
snapshot6 rt "$out" ipv4
if [ $mode = xt ]; then inns rt iptables-save > "$out/iptables-save.txt"; inns rt ip6tables-save > "$out/ip6tables-save.txt"; fi
kill $SRV4 $SRV6 2>/dev/null || true; wait $SRV4 $SRV6 2>/dev/null || true
finish "$out"
