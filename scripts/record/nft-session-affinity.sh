#!/usr/bin/env bash
# kube-proxy's nftables session affinity (sessionAffinity: ClientIP, timeoutSeconds: 3) on rt:
# ClusterIP 10.96.0.10:80 with endpoints 192.168.206.1:8080 and 192.168.206.2:8080 (both on w).
# The rules are kube-proxy's own transaction (pkg/proxy/nftables/proxier.go), except that the
# service chain picks with `numgen inc` instead of `numgen random`, so that the kernel's choice
# is known. Connections at 0 s (endpoint 0 by numgen), 1 s (endpoint 0 by affinity, where numgen
# would say 1; the timeout restarts: until 4 s), 3.5 s (endpoint 0 again only because the 1 s
# connection restarted the timeout: until 6.5 s), 7.5 s (expired: endpoint 1 by numgen) and
# 8.5 s (endpoint 1 by affinity, where numgen would say 0).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
. "$(dirname "$0")/kube-proxy-nft.sh"
. "$(dirname "$0")/affinity-traffic.sh"
A=endpoint-AAAAAAAA-default/web/tcp/http__192.168.206.1/8080
B=endpoint-BBBBBBBB-default/web/tcp/http__192.168.206.2/8080
SVC=service-HRJQDJ3Y-default/web/tcp/http
inns rt nft -f - <<R
$(kube_proxy_base)
add set ip kube-proxy affinity-${A#endpoint-} { type ipv4_addr ; flags dynamic,timeout ; timeout 3s ; }
add set ip kube-proxy affinity-${B#endpoint-} { type ipv4_addr ; flags dynamic,timeout ; timeout 3s ; }
add rule ip kube-proxy $SVC ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.0.3.0/24 jump mark-for-masquerade
add rule ip kube-proxy $SVC ip saddr @affinity-${A#endpoint-} goto $A
add rule ip kube-proxy $SVC ip saddr @affinity-${B#endpoint-} goto $B
add rule ip kube-proxy $SVC numgen inc mod 2 vmap { 0 : goto $A , 1 : goto $B }
add rule ip kube-proxy $A ip saddr 192.168.206.1 jump mark-for-masquerade
add rule ip kube-proxy $A update @affinity-${A#endpoint-} { ip saddr }
add rule ip kube-proxy $A meta l4proto tcp dnat to 192.168.206.1:8080
add rule ip kube-proxy $B ip saddr 192.168.206.2 jump mark-for-masquerade
add rule ip kube-proxy $B update @affinity-${B#endpoint-} { ip saddr }
add rule ip kube-proxy $B meta l4proto tcp dnat to 192.168.206.2:8080
add element ip kube-proxy service-ips { 10.96.0.10 . tcp . 80 : goto $SVC }
R
# the ruleset as it is before any traffic, what natsim starts from (snapshot lists it again
# after the traffic; affinity-after.txt is that listing with the elements rules added)
inns rt nft list ruleset > "$out/nft-ruleset-before.txt"
affinity_traffic "$out" 'nft list ruleset'
mv "$out/nft-ruleset-before.txt" "$out/nft-ruleset.txt"
finish "$out"
