# Sourced after lib.sh and lib6.sh: the IPv6 twin of topo-basic.sh. Client c (fd00:3::1,
# fd00:3::2), router rt (eth1 fd00:3::254, eth0 fd00:206::250, forwarding), server w
# (fd00:206::1); every address /64 and nodad. With DUAL=1 also topo-basic.sh's IPv4 addresses.
mkns6 c rt w
link c eth0 rt eth1 ; link rt eth0 w eth0
inns c ip addr add fd00:3::1/64 dev eth0 nodad; inns c ip addr add fd00:3::2/64 dev eth0 nodad
inns c ip -6 route add default via fd00:3::254
inns rt ip addr add fd00:3::254/64 dev eth1 nodad; inns rt ip addr add fd00:206::250/64 dev eth0 nodad
inns rt sysctl -qw net.ipv6.conf.all.forwarding=1
inns w ip addr add fd00:206::1/64 dev eth0 nodad; inns w ip -6 route add default via fd00:206::250
if [ "${DUAL:-0}" = 1 ]; then
  inns c ip addr add 10.0.3.1/24 dev eth0; inns c ip route add default via 10.0.3.254
  inns rt ip addr add 10.0.3.254/24 dev eth1; inns rt ip addr add 192.168.206.250/24 dev eth0
  inns rt sysctl -qw net.ipv4.ip_forward=1
  inns w ip addr add 192.168.206.1/24 dev eth0; inns w ip route add default via 192.168.206.250
fi
