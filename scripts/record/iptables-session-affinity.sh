#!/usr/bin/env bash
# kube-proxy's iptables session affinity (sessionAffinity: ClientIP, timeoutSeconds: 3) on rt:
# ClusterIP 10.96.0.10:80 with endpoints 192.168.206.1:8080 and 192.168.206.2:8080 (both on w).
# The rules are what kube-proxy writes (pkg/proxy/iptables/proxier.go): `-m recent --rcheck
# --seconds 3 --reap` per endpoint in KUBE-SVC-*, `-m recent --set` in each KUBE-SEP-*'s DNAT
# rule; except that the first endpoint's rule picks with `-m statistic --mode nth --every 2`
# instead of `--mode random --probability 0.5`, so that the kernel's choice is known.
# Connections at 0 s (endpoint 0: the nth rule's 1st packet), 1 s (endpoint 0 by affinity, where
# nth would say 1; --set records 1 s), 3.5 s (endpoint 0 again only because of the 1 s sighting),
# 7.5 s (last seen 3.5 s: too old, reaped; nth's 2nd packet goes on to endpoint 1) and 8.5 s
# (endpoint 1 by affinity, where nth would say 0).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
. "$(dirname "$0")/affinity-traffic.sh"
inns rt iptables-restore <<'R'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-WEB - [0:0]
:KUBE-SEP-AAAA - [0:0]
:KUBE-SEP-BBBB - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -m comment --comment "default/web cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-WEB
-A KUBE-SVC-WEB -m comment --comment "default/web cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.0.3.0/24 -j KUBE-MARK-MASQ
-A KUBE-SVC-WEB -m comment --comment "default/web -> 192.168.206.1:8080" -m recent --name KUBE-SEP-AAAA --rcheck --seconds 3 --reap -j KUBE-SEP-AAAA
-A KUBE-SVC-WEB -m comment --comment "default/web -> 192.168.206.2:8080" -m recent --name KUBE-SEP-BBBB --rcheck --seconds 3 --reap -j KUBE-SEP-BBBB
-A KUBE-SVC-WEB -m comment --comment "default/web -> 192.168.206.1:8080" -m statistic --mode nth --every 2 --packet 0 -j KUBE-SEP-AAAA
-A KUBE-SVC-WEB -m comment --comment "default/web -> 192.168.206.2:8080" -j KUBE-SEP-BBBB
-A KUBE-SEP-AAAA -m comment --comment default/web -s 192.168.206.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-AAAA -m comment --comment default/web -m recent --name KUBE-SEP-AAAA --set -m tcp -p tcp -j DNAT --to-destination 192.168.206.1:8080
-A KUBE-SEP-BBBB -m comment --comment default/web -s 192.168.206.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-BBBB -m comment --comment default/web -m recent --name KUBE-SEP-BBBB --set -m tcp -p tcp -j DNAT --to-destination 192.168.206.2:8080
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
# the recent tables (/proc/net/xt_recent, last_seen in jiffies) right after the last connection
affinity_traffic "$out" 'for t in /proc/net/xt_recent/*; do echo "$t:"; cat "$t"; done'
finish "$out"
