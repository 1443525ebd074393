/** The files of a node snapshot, by name: apart from their readers, so that the command line's help names them without loading those. */
export const ADDR_FILE = 'ip-addr.json';
export const ROUTE_FILE = 'ip-route.json';
/** `ip -j -6 route show table all`: the IPv6 routes alone (ip-route.json has them too, with this iproute2). */
export const ROUTE6_FILE = 'ip6-route.json';
export const IP6TABLES_FILE = 'ip6tables-save.txt';
export const SYSCTL_FILE = 'sysctl.txt';
export const NFT_FILE = 'nft-ruleset.txt';
/** `ipset save`, for iptables' -m set (optional). */
export const IPSET_FILE = 'ipset-save.txt';
export const IPTABLES_FILE = 'iptables-save.txt';
/** `iptables-legacy-save`: x_tables tables, written by natsim snapshot only when there are any. */
export const IPTABLES_LEGACY_FILE = 'iptables-legacy-save.txt';
/** `ipvsadm -Sn`, the IPVS virtual services (optional). */
export const IPVS_FILE = 'ipvsadm-save.txt';
/** `ss -tuanpH`: the node's TCP and UDP sockets, listening and connected (saved, not read yet). */
export const SOCKETS_FILE = 'sockets.txt';
/** /proc/net/tcp and /proc/net/udp, saved instead of sockets.txt where there is no ss. */
export const PROC_TCP_FILE = 'proc-net-tcp.txt';
export const PROC_UDP_FILE = 'proc-net-udp.txt';
/** `nproc`: the node's CPU count (cpu-count.ts). */
export const NPROC_FILE = 'nproc.txt';
/** /sys/devices/system/cpu/online (e.g. `0-3`), saved instead of nproc.txt where there is no nproc; read first (cpu-count.ts). */
export const CPU_ONLINE_FILE = 'cpu-online.txt';
/** /proc/net/igmp: the IPv4 groups each device is in (igmp.ts; optional: without it, 224.0.0.1 only). */
export const IGMP_FILE = 'igmp.txt';
