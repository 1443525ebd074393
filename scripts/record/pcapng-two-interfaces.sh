#!/usr/bin/env bash
# Two interfaces of different link types in one pcapng file: dumpcap on rt captures "any" as
# LINUX_SLL2 and eth1 as Ethernet (EN10MB) at once, while the client pings through nft
# masquerade. Every packet on eth1 is then in the file twice, once per interface, which the
# reader test (test/capture/pcapng-kernel.test.ts) uses to check one against the other.
. "$(dirname "$0")/lib.sh"
P=pcapng$$ # namespace names unique to this recorder
out=${1:?out dir}; mkdir -p "$out"
command -v dumpcap >/dev/null || { echo "dumpcap missing (apt-get install wireshark-common)" >&2; exit 1; }
. "$(dirname "$0")/topo-basic.sh"
masq_nft
TDERR=$(mktemp)
ip netns exec $(ns rt) dumpcap -q -i any -y LINUX_SLL2 -i eth1 -B 64 -w "$out/capture.pcapng" 2>"$TDERR" & TD=$!
sleep 1.5
inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 3 16962 > "$out/client.txt" 2>&1
sleep 1; kill -INT $TD; wait $TD 2>/dev/null || true; TD=
cat "$TDERR" >&2
# both interfaces must report 0 dropped
[ "$(grep -cE "received/dropped on interface '(any|eth1)': [0-9]+/0 " "$TDERR")" = 2 ] || { rm -f "$TDERR"; echo "capture incomplete (drops), record again" >&2; exit 1; }
rm -f "$TDERR"
inns rt ip -j link > "$out/ip-link.json"
