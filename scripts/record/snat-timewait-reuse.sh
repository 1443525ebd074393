#!/usr/bin/env bash
# SNAT to one fixed address:port (as snat-fixed-port-clash), but the client closes the first
# connection cleanly first, so rt's entry is TIME_WAIT when the second connection (another client
# port) arrives. nf_nat_l4proto_unique_tuple -> nf_nat_used_tuple_harder evicts the TIME_WAIT entry
# and reuses 192.168.206.250:40000 because the new SYN's sequence number is after the old
# connection's (nf_seq_has_advanced). The second connection is crafted (raw socket) with
# ISN = end of connection 1 + 100000: a kernel client's ISN for port 41001 is a per-boot hash and
# was behind on the boot this was first recorded on (no reuse, SYN dropped at confirm; README.md).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
inns c sysctl -qw net.ipv4.tcp_syn_retries=2   # bounds a failing kernel connect (KERNEL2=1) to ~7 s
snat_fixed_port
inns rt iptables-save > "$out/iptables-save.txt"
# server: per connection, read the request, answer, wait for the client's FIN, then close
ip netns exec $(ns w) python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("192.168.206.1",8080)); s.listen(8); s.settimeout(20)
try:
  for _ in range(2):
    c,a=s.accept(); c.settimeout(5); d=c.recv(100); c.sendall(b"pong:"+d)
    while c.recv(100): pass
    c.close()
except Exception: pass
' & SRV=$!
sleep 0.5
inns rt conntrack -S > "$out/conntrack-S-before.txt" 2>/dev/null || true
ip netns exec $(ns rt) conntrack -E -o timestamp > "$out/conntrack-E.txt" 2>/dev/null & EV=$!
trap 'kill $EV $SRV 2>/dev/null || true; teardown' EXIT
sleep 0.3
start_capture rt "$out"
# connection 1: the client's kernel TCP; an AF_PACKET socket notes the end (seq + len, SYN and FIN
# count 1) of what it sent, which is what rt's entry holds as seen[0].td_end
CLIENT1='
import socket,struct,sys,time
P=int(sys.argv[1])
pk=socket.socket(socket.AF_PACKET,socket.SOCK_RAW,socket.htons(3)); pk.bind(("eth0",3)); pk.setblocking(False)  # ETH_P_ALL: only it sees outgoing
s=socket.socket(); s.bind(("10.0.3.1",P)); s.settimeout(10); t=time.time()
try: s.connect(("192.168.206.1",8080)); print("%d: connected" % P)
except OSError as e: print("%d: connect failed after %.1fs: %s" % (P,time.time()-t,e)); sys.exit(0)
s.sendall(b"hello%d" % P); print("%d: answer %r" % (P,s.recv(100)))
time.sleep(0.2); s.close(); print("%d: closed by client" % P); time.sleep(0.5)
isn=end=None
while True:
  try: f,a=pk.recvfrom(2048)
  except BlockingIOError: break
  ip=f[14:]; ihl=(ip[0]&15)*4; tot=struct.unpack("!H",ip[2:4])[0]
  if a[2]!=socket.PACKET_OUTGOING or f[12:14]!=b"\x08\x00" or ip[9]!=6: continue
  sp,dp,seq=struct.unpack("!HHI",ip[ihl:ihl+8]); fl=ip[ihl+13]; plen=tot-ihl-(ip[ihl+12]>>4)*4
  if sp!=P: continue
  if fl&2: isn=seq
  end=(seq+plen+(fl&1)+((fl>>1)&1))&0xffffffff
print("%d: isn=%d seq_end=%d" % (P,isn,end))
'
# connection 2: crafted with a raw socket so that its ISN is after connection 1's end no matter
# what the kernel would have picked (Linux ISNs are a per-4-tuple hash plus a 64 ns clock); the
# client kernel's RSTs for the socketless port 41001 are dropped in the client namespace
inns c nft -f - <<'R'
table ip craft {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp sport 41001 tcp flags & rst == rst drop
	}
}
R
CLIENT2='
import socket,struct,sys,time
S,D,SP,DP=socket.inet_aton("10.0.3.1"),socket.inet_aton("192.168.206.1"),41001,8080
FIN,SYN,PSH,ACK=1,2,8,16
isn=(int(sys.argv[1])+int(sys.argv[2]))&0xffffffff
r=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_TCP)
def ck(b):
  b+=b"\0"*(len(b)&1); x=sum(struct.unpack("!%dH"%(len(b)//2),b))
  while x>>16: x=(x&0xffff)+(x>>16)
  return ~x&0xffff
def send(seq,ack,fl,data=b"",opt=b""):
  h=struct.pack("!HHIIBBHHH",SP,DP,seq,ack,(20+len(opt))//4<<4,fl,64240,0,0)+opt+data
  c=ck(S+D+struct.pack("!BBH",0,6,len(h))+h); r.sendto(h[:16]+struct.pack("!H",c)+h[18:],("192.168.206.1",0))
def recv(wait):
  end=time.time()+wait
  while time.time()<end:
    r.settimeout(max(0.01,end-time.time()))
    try: p=r.recv(2048)
    except socket.timeout: break
    ihl=(p[0]&15)*4; t=p[ihl:]
    if p[12:16]!=D or struct.unpack("!HH",t[:4])!=(DP,SP): continue
    seq,ack=struct.unpack("!II",t[4:12]); return seq,ack,t[13],t[(t[12]>>4)*4:]
  return None
mss=struct.pack("!BBH",2,4,1460)
t0=time.time(); got=None
for i in range(3):
  send(isn,0,SYN,opt=mss); got=recv(1.0)
  if got: break
if not got or got[2]&(SYN|ACK)!=(SYN|ACK):
  print("41001: crafted SYN seq=%d: no SYN-ACK after %.1fs (%d tries)" % (isn,time.time()-t0,i+1)); sys.exit(0)
print("41001: crafted SYN seq=%d (connection 1 end + %s), SYN-ACK after %.3fs" % (isn,sys.argv[2],time.time()-t0))
snd=isn+1; rcv=(got[0]+1)&0xffffffff
send(snd,rcv,ACK); data=b"hello41001"; send(snd,rcv,PSH|ACK,data); snd+=len(data); ans=b""
while not ans.startswith(b"pong:") or len(ans)<15:
  g=recv(3.0)
  if not g: break
  if g[3]: ans+=g[3]; rcv=(g[0]+len(g[3]))&0xffffffff; send(snd,rcv,ACK)
print("41001: answer %r" % ans)
time.sleep(0.2); send(snd,rcv,FIN|ACK); snd+=1
while True:
  g=recv(3.0)
  if not g: print("41001: no FIN from the server"); break
  if g[2]&FIN: rcv=(g[0]+len(g[3])+1)&0xffffffff; send(snd,rcv,ACK); print("41001: closed by client, server FIN acked"); break
'
SEQEND=$(inns c python3 -c "$CLIENT1" 41000 | tee "$out/client.txt" | sed -n 's/.*seq_end=//p')
sleep 1   # rt's entry is TIME_WAIT now (server FIN and the client's final ACK went through)
inns rt conntrack -L > "$out/conntrack-L-timewait.txt" 2>/dev/null || true
sleep 1
if [ "${KERNEL2:-0}" = 1 ]; then  # the kernel's own ISN for 41001 instead (reuse only if it is after)
  inns c python3 -c "$CLIENT1" 41001 >> "$out/client.txt"
else
  inns c python3 -c "$CLIENT2" "${SEQEND:?no seq_end from connection 1}" 100000 >> "$out/client.txt"
fi
sleep 1
stop_capture
snapshot rt "$out"
kill $EV $SRV 2>/dev/null || true; wait $EV 2>/dev/null || true; wait $SRV 2>/dev/null || true
finish "$out"
