#!/usr/bin/env bash
# `conntrack -F` on a masquerading router with a stateful forward chain, while two TCP
# connections are open; the capture starts after the flush, so what rt does next is what a replay
# that starts with an empty table must do. LOOSE=1 (the default, nf_conntrack_tcp_loose=1) or
# LOOSE=0 chooses whether tcp_new may pick a connection up in the middle.
#   A 10.0.3.1:43100 -> 192.168.206.1:80: the client speaks first after the flush ("a2"), the
#     server answers; with loose=1 the entry is picked up (ESTABLISHED, MASQUERADE keeps port
#     43100), with loose=0 the segment is INVALID and `ct state invalid drop` drops it (the client
#     retransmits).
#   B 10.0.3.1:43200 -> 192.168.206.1:81: the server speaks first ("b2"), to rt's address
#     192.168.206.250:43200, which no entry maps back: rt delivers it locally, no socket, and
#     rt answers with a reset; then the client sends "b3".
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
LOOSE=${LOOSE:-1}
. "$(dirname "$0")/topo-basic.sh"
inns c sysctl -qw net.ipv4.tcp_retries2=3   # bounds the client's retransmissions of a dropped segment
masq_nft
stateful_forward_nft
# the sysctl exists in rt once the ruleset's ct expressions have loaded conntrack there
inns rt sysctl -qw net.netfilter.nf_conntrack_tcp_loose=$LOOSE
ip netns exec $(ns w) python3 -c '
import socket,threading,time
def serve(port, first):
  s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",port)); s.listen(1); s.settimeout(15)
  c,_=s.accept(); c.settimeout(6)
  try:
    if first: time.sleep(5.5); c.sendall(b"b2")
    while True:
      d=c.recv(100)
      if not d: break
      c.sendall(b"echo:"+d)
  except OSError as e: print("server %d: %s" % (port, e))
  c.close()
for p,f in ((80,False),(81,True)): threading.Thread(target=serve,args=(p,f)).start()
' > "$out/server.txt" 2>&1 & SRV=$!
sleep 0.5
ip netns exec $(ns c) python3 -c '
import socket,time
a=socket.socket(); a.bind(("10.0.3.1",43100)); a.settimeout(6); a.connect(("192.168.206.1",80))
b=socket.socket(); b.bind(("10.0.3.1",43200)); b.settimeout(6); b.connect(("192.168.206.1",81))
a.sendall(b"a1"); print("A before the flush:", a.recv(100))
time.sleep(3.5)
try: a.sendall(b"a2"); print("A after the flush:", a.recv(100))
except OSError as e: print("A after the flush:", e)
time.sleep(3)
try: b.sendall(b"b3"); print("B after the flush:", b.recv(100))
except OSError as e: print("B after the flush:", e)
time.sleep(0.5); a.close(); b.close(); time.sleep(0.5)
' > "$out/client.txt" 2>&1 & CLI=$!
trap 'kill $EV $SRV $CLI 2>/dev/null || true; teardown' EXIT
EV=
sleep 1.2
inns rt conntrack -L > "$out/conntrack-L-before-flush.txt" 2>/dev/null || true
inns rt conntrack -F 2>/dev/null
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
start_capture rt "$out"
wait $CLI || true
sleep 1
stop_capture
snapshot rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true
finish "$out"
