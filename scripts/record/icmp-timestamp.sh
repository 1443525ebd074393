#!/usr/bin/env bash
# How a Linux router answers ICMP timestamp requests (type 13) sent to its own addresses: rt
# (topo-basic, ip_forward=1, masquerade out of eth0 so conntrack is registered) replies from
# icmp_timestamp(): type 14, code 0, id/seq kept, originate copied from the request, receive =
# transmit = inet_current_timestamp() (ms since midnight UTC, one reading), and a 20-byte ICMP
# body whatever the request carried (head_len = 8 + 12, data_len 0). icmp_rcv drops a timestamp
# request to a broadcast address when icmp_echo_ignore_broadcasts=1 (RFC 1122 3.2.2.8, the same
# test as for echo): IcmpInErrors, no reply.
# Traffic from c: a raw socket (IPPROTO_ICMP, bound to 10.0.3.1; the kernel fills the IP header,
# the script crafts the ICMP header and checksum), id 0x1234, originate = ms since midnight UTC at
# sendto, receive = transmit = 0, 0.3 s apart (replies are read during the 0.3 s):
#   1. 10.0.3.1 -> 10.0.3.254 (rt, eth1), seq 1
#   2. 10.0.3.1 -> 192.168.206.250 (rt's other address, eth0), seq 2
#   3. 10.0.3.1 -> 10.0.3.255 (subnet broadcast, SO_BROADCAST), seq 3: no reply expected
#   4. 10.0.3.1 -> 10.0.3.254 with 8 extra bytes after the 12 timestamp bytes, seq 4
#   5. 10.0.3.1 -> 192.168.206.1 (w; forwarded and masqueraded, w answers), seq 5
# client.txt: what c sent and every ICMP message its raw socket received (timestamp replies with
# the 20-byte body decoded: id, seq, originate, receive, transmit).
# timestamps.txt (from capture.pcap after the run): every ICMP timestamp message rt's capture saw,
# with the capture time in ms since midnight UTC and, for each reply, receive minus the capture
# time of its request.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
masq_nft
start_capture rt "$out"
inns c python3 -c '
import socket,struct,time,select
def csum(b):
  if len(b)%2: b+=b"\0"
  s=sum(struct.unpack("!%dH" % (len(b)//2),b))
  while s>>16: s=(s&0xffff)+(s>>16)
  return (~s)&0xffff
def ms_utc(): return int(time.time()*1000)%86400000
r=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP); r.bind(("10.0.3.1",0))
r.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)
ID=0x1234
print("# raw socket IPPROTO_ICMP bound to 10.0.3.1, SO_BROADCAST; id 0x%04x (%d)" % (ID,ID),flush=True)
def step(n,dst,seq,extra=b""):
  orig=ms_utc()
  h=struct.pack("!BBHHHIII",13,0,0,ID,seq,orig,0,0)+extra
  h=h[:2]+struct.pack("!H",csum(h))+h[4:]
  print("# %d. timestamp request 10.0.3.1 -> %s id 0x%04x seq %d originate %d receive 0 transmit 0, icmp length %d%s" % (n,dst,ID,seq,orig,len(h),(", extra %s" % extra.hex()) if extra else ""),flush=True)
  try: print("  sendto -> %d bytes" % r.sendto(h,(dst,0)),flush=True)
  except OSError as e: print("  sendto: error %s" % e,flush=True)
  end=time.time()+0.3; got=0
  while True:
    left=end-time.time()
    if left<=0: break
    rd,_,_=select.select([r],[],[],left)
    if not rd: break
    d,a=r.recvfrom(2000); now=ms_utc(); ihl=(d[0]&15)*4; ic=d[ihl:]
    t,c,ck=struct.unpack("!BBH",ic[:4])
    line="  got %d bytes (ip total %d, icmp %d) from %s to %s ttl %d: type %d code %d cksum 0x%04x ok %s" % (len(d),struct.unpack("!H",d[2:4])[0],len(ic),a[0],socket.inet_ntoa(d[16:20]),d[8],t,c,ck,csum(ic)==0)
    if t in (13,14) and len(ic)>=20:
      i,s,o,rv,tx=struct.unpack("!HHIII",ic[4:20])
      line+="\n    id %d (0x%04x) seq %d originate %d receive %d transmit %d; read at %d (receive-originate %d, read-transmit %d)" % (i,i,s,o,rv,tx,now,rv-o,now-tx)
      if len(ic)>20: line+="\n    %d more bytes after the timestamps: %s" % (len(ic)-20,ic[20:].hex())
    if t==14: got+=1
    print(line,flush=True)
  print("  seq %d: %d timestamp replies" % (seq,got),flush=True)
step(1,"10.0.3.254",1)
step(2,"192.168.206.250",2)
step(3,"10.0.3.255",3)
step(4,"10.0.3.254",4,extra=bytes(range(0xa0,0xa8)))
step(5,"192.168.206.1",5)
time.sleep(0.3)
print("done",flush=True)' > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
inns rt sysctl net.ipv4.icmp_echo_ignore_broadcasts net.ipv4.icmp_ratemask net.ipv4.icmp_ratelimit >> "$out/sysctl.txt"
inns rt nstat -az > "$out/nstat.txt" 2>/dev/null || true
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
finish "$out"
# timestamps.txt: the ICMP timestamp messages in rt's capture (LINUX_SLL or LINUX_SLL2 from -i any)
python3 - "$out/capture.pcap" > "$out/timestamps.txt" <<'PY'
import struct,sys,socket
f=open(sys.argv[1],"rb"); gh=f.read(24)
magic=struct.unpack("<I",gh[:4])[0]; e="<" if magic in (0xa1b2c3d4,0xa1b23c4d) else ">"
nano=struct.unpack(e+"I",gh[:4])[0]==0xa1b23c4d; lt=struct.unpack(e+"I",gh[20:24])[0]
ifn={}
try:
  import json; ifn={l["ifindex"]:l["ifname"] for l in json.load(open(sys.argv[1].rsplit("/",1)[0]+"/ip-link.json"))}
except Exception: pass
reqs={}; n=0
print("# pkt: capture time (ms since midnight UTC) interface direction src -> dst type id seq icmp-length originate receive transmit")
while True:
  h=f.read(16)
  if len(h)<16: break
  sec,frac,cl,ol=struct.unpack(e+"IIII",h); d=f.read(cl); n+=1
  t=sec+frac/(1e9 if nano else 1e6)
  if lt==276: proto,ifx,pkt=struct.unpack("!HxxI",d[:8])+(d[10],); ip=d[20:]
  elif lt==113: pkt,proto,ifx=struct.unpack("!H",d[:2])[0],struct.unpack("!H",d[14:16])[0],None; ip=d[16:]
  else: sys.exit("linktype %d" % lt)
  if proto!=0x0800 or ip[9]!=1: continue
  ic=ip[(ip[0]&15)*4:]
  if ic[0] not in (13,14): continue
  i,s,o,rv,tx=struct.unpack("!HHIII",ic[4:20])
  ms=(sec%86400)*1000+(frac/(1e6 if nano else 1e3))
  src,dst=socket.inet_ntoa(ip[12:16]),socket.inet_ntoa(ip[16:20])
  dr={0:"In",1:"B",2:"M",3:"P",4:"Out"}.get(pkt,str(pkt))
  line="%d: %.3f %s %s %s -> %s type %d id 0x%04x seq %d len %d orig %d recv %d xmit %d" % (n,ms,ifn.get(ifx,ifx),dr,src,dst,ic[0],i,s,len(ic),o,rv,tx)
  if ic[0]==13: reqs.setdefault(s,[]).append((n,ms,ifn.get(ifx,ifx),dr))
  else:
    for rn,rms,rif,rdr in reqs.get(s,[]):
      line+="\n    receive - capture time of request pkt %d (%s %s, %.3f) = %.3f ms; transmit - it = %.3f ms; receive - originate = %d ms" % (rn,rif,rdr,rms,rv-rms,tx-rms,rv-o)
  print(line)
PY
