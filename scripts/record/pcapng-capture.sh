#!/usr/bin/env bash
# The tcp-lifecycle traffic plus 3 pings through nft masquerade, captured on rt with dumpcap as
# pcapng (LINUX_SLL2, one interface block for "any"); capture.pcap is the same packets rewritten
# as classic pcap by tcpdump, for comparison.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
command -v dumpcap >/dev/null || { echo "dumpcap missing (apt-get install wireshark-common)" >&2; exit 1; }
. "$(dirname "$0")/topo-basic.sh"
masq_nft
ip netns exec $(ns w) python3 -c '
import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",80)); s.listen(1); s.settimeout(8)
c,_=s.accept(); d=c.recv(100); c.sendall(b"pong:"+d); c.recv(100); c.close()
' & SRV=$!
sleep 0.5
trap 'kill $SRV 2>/dev/null || true; teardown' EXIT
start_capture_pcapng rt "$out"
{
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 3 16962
  inns c python3 -c '
import socket,time
s=socket.socket(); s.bind(("10.0.3.1",43000)); s.settimeout(5); s.connect(("192.168.206.1",80))
s.sendall(b"ping"); print("tcp got", s.recv(100)); time.sleep(0.2); s.close(); time.sleep(0.5)'
} > "$out/client.txt" 2>&1
stop_capture_pcapng
snapshot rt "$out"
kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true
tcpdump -r "$out/capture.pcapng" -w "$out/capture.pcap" 2>/dev/null
finish "$out"
