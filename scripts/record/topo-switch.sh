# Sourced: c (10.0.3.1) and s (10.0.3.2) share a switch (bridge br0 in namespace sw) with router
# rt's eth1 (10.0.3.254), both routing by rt; rt's eth0 (192.168.206.250) reaches w (192.168.206.1).
mkns c s sw rt w
inns sw ip link add br0 type bridge; inns sw ip link set br0 up
link c eth0 sw p-c; link s eth0 sw p-s; link rt eth1 sw p-rt; link rt eth0 w eth0
for p in p-c p-s p-rt; do inns sw ip link set $p master br0; done
inns c ip addr add 10.0.3.1/24 dev eth0; inns c ip route add default via 10.0.3.254
inns s ip addr add 10.0.3.2/24 dev eth0; inns s ip route add default via 10.0.3.254
inns rt ip addr add 10.0.3.254/24 dev eth1; inns rt ip addr add 192.168.206.250/24 dev eth0
inns rt sysctl -qw net.ipv4.ip_forward=1
inns w ip addr add 192.168.206.1/24 dev eth0; inns w ip route add default via 192.168.206.250
