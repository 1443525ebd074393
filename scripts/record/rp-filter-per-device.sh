#!/usr/bin/env bash
# rp_filter on one device only: rt has net.ipv4.conf.all.rp_filter=0, conf.eth0.rp_filter=1
# (strict, the WAN side) and conf.eth1.rp_filter=0 (the LAN side). The kernel checks a packet
# received on a device with the larger of conf.all and the device's value (IN_DEV_RPFILTER):
# - w's SYN from its own address 192.168.206.1 comes in on eth0 and its route back leaves by
#   eth0: forwarded; c answers with a RST, forwarded back;
# - w spoofs the LAN source 10.0.3.77 (route back by eth1) and the unrouted 198.51.100.7: both
#   dropped on eth0 by fib_validate_source (nstat TcpExtIPReversePathFilter 2);
# - c spoofs the WAN source 192.168.206.77 (route back by eth0) and 198.51.100.8: eth1 checks
#   nothing (0), both forwarded.
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
# a new namespace may inherit init_net's conf values (devconf_inherit_init_net): set each
inns rt sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.lo.rp_filter=0 \
  net.ipv4.conf.eth0.rp_filter=1 net.ipv4.conf.eth1.rp_filter=0
inns rt nstat -n >/dev/null 2>&1 || true
start_capture rt "$out"
syn(){ # role src sport dst seq what: a crafted SYN to port 22, then a pause
  echo "# $1 $2:$3 -> $4:22 SYN ($6)"; inns $1 python3 "$CRAFT" tcp $2 $3 $4 22 S $5; sleep 0.3; }
{
  syn w 192.168.206.1 41000 10.0.3.1 5000 "legitimate: forwarded, c answers RST"
  syn w 10.0.3.77 41001 10.0.3.1 5001 "eth0 strict: route back by eth1, dropped"
  syn w 198.51.100.7 41002 10.0.3.1 5002 "eth0 strict: no route back, dropped"
  syn c 192.168.206.77 42000 192.168.206.1 6000 "eth1 rp_filter 0: forwarded"
  syn c 198.51.100.8 42001 192.168.206.1 6001 "eth1 rp_filter 0: forwarded"
  sleep 0.2
} > "$out/client.txt" 2>&1
stop_capture
snapshot rt "$out"
inns rt nstat -az TcpExtIPReversePathFilter IpInAddrErrors IpForwDatagrams > "$out/nstat.txt" 2>&1 || true
cat /sys/devices/system/cpu/online > "$out/cpu-online.txt"   # conntrack -S has a line per CPU
finish "$out"
