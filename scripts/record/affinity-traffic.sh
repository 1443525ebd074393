# Sourced by the session-affinity recorders, after topo-basic.sh and the ruleset: w answers on
# 192.168.206.1 and .2 (the endpoints of ClusterIP 10.96.0.10:80), and the client connects from
# 10.0.3.1 at 0, 1, 3.5, 7.5 and 8.5 s (source ports 43001-43005), each answer naming the
# endpoint (client.txt). `affinity_traffic OUT STATE_CMD` runs it all under capture on rt;
# STATE_CMD (run in rt, output to OUT/affinity-after.txt) shows the affinity state right after
# the last connection.
inns w ip addr add 192.168.206.2/24 dev eth0
affinity_traffic(){ # outdir state-command
  local o=$1
  # server: per connection, answer with the address it was reached at, wait for the client's FIN, close
  ip netns exec $(ns w) python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("0.0.0.0",8080)); s.listen(8); s.settimeout(20)
try:
  for _ in range(5):
    c,a=s.accept(); c.settimeout(5); d=c.recv(100); c.sendall(b"pong from %s: %s" % (c.getsockname()[0].encode(), d))
    while c.recv(100): pass
    c.close()
except Exception: pass
' & SRV=$!
  sleep 0.5
  ip netns exec $(ns rt) conntrack -E -o timestamp > "$o/conntrack-E.txt" 2>/dev/null & EV=$!
  trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
  sleep 0.3
  start_capture rt "$o"
  inns c python3 -c '
import socket,time
t0=time.time()
for port,at in ((43001,0.0),(43002,1.0),(43003,3.5),(43004,7.5),(43005,8.5)):
  time.sleep(max(0.0,t0+at-time.time()))
  s=socket.socket(); s.bind(("10.0.3.1",port)); s.settimeout(5); s.connect(("10.96.0.10",80))
  s.sendall(b"hello%d" % port); print("%.3f %d: %s" % (time.time()-t0,port,s.recv(100).decode())); time.sleep(0.1); s.close()
' > "$o/client.txt"
  inns rt sh -c "$2" > "$o/affinity-after.txt"
  stop_capture
  snapshot rt "$o"
  kill $EV $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true; wait $SRV 2>/dev/null || true
}
