#!/usr/bin/env bash
# Which rulesets make the kernel register conntrack in a namespace (nf_ct_netns_get). For each
# case: a fresh namespace, the ruleset loaded, one UDP datagram from the namespace to itself over
# lo, then `conntrack -L` counted. Writes OUTDIR/cases.txt: one block per case, a line
# "== LABEL: entries=N" then the ruleset (nft -f or iptables-restore text) as loaded.
# Usage: conntrack-registration.sh OUTDIR   (root; nft, iptables-nft-restore, conntrack, python3)
. "$(dirname "$0")/lib.sh"
OUT=$1; mkdir -p "$OUT"; : > "$OUT/cases.txt"
one(){ # label loader ruleset
  local label=$1 loader=$2 rules=$3 n
  mkns c
  printf '%s\n' "$rules" | inns c $loader
  inns c python3 -c "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.sendto(b'x',('127.0.0.1',9999))"
  n=$(inns c conntrack -L 2>/dev/null | grep -c 'dport=9999' || true)
  { echo "== $label: entries=$n"; printf '%s\n' "$rules"; } >> "$OUT/cases.txt"
  ip netns del $(ns c); NSES=()
}
NFT="nft -f -"; IPT="iptables-nft-restore"
one "no ruleset" "$NFT" ""
one "nft nat chain, no rule" "$NFT" 'table ip t {
  chain p { type nat hook postrouting priority srcnat; policy accept;
  }
}'
one "nft nat chain, counter only" "$NFT" 'table ip t {
  chain o { type nat hook output priority -100; policy accept;
    counter
  }
}'
one "nft ct state in a filter chain" "$NFT" 'table ip t {
  chain o { type filter hook output priority filter; policy accept;
    ct state established accept
  }
}'
one "nft ct mark match" "$NFT" 'table ip t {
  chain o { type filter hook output priority filter; policy accept;
    ct mark 0x1 accept
  }
}'
one "nft ct mark set" "$NFT" 'table ip t {
  chain o { type filter hook output priority filter; policy accept;
    ct mark set 0x1
  }
}'
one "nft meta mark set" "$NFT" 'table ip t {
  chain o { type filter hook output priority filter; policy accept;
    meta mark set 0x1
  }
}'
one "nft notrack only" "$NFT" 'table ip t {
  chain o { type filter hook output priority raw; policy accept;
    udp dport 1 notrack
  }
}'
one "nft inet ct state" "$NFT" 'table inet t {
  chain o { type filter hook output priority filter; policy accept;
    ct state established accept
  }
}'
one "nft ip6 ct state" "$NFT" 'table ip6 t {
  chain o { type filter hook output priority filter; policy accept;
    ct state established accept
  }
}'
one "nft masquerade rule" "$NFT" 'table ip t {
  chain p { type nat hook postrouting priority srcnat; policy accept;
    oifname "nope" masquerade
  }
}'
one "nft ct state vmap" "$NFT" 'table ip t {
  chain o { type filter hook output priority filter; policy accept;
    ct state vmap { established : accept }
  }
}'
one "iptables nat table, no rule" "$IPT" '*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT'
one "iptables -m conntrack" "$IPT" '*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
COMMIT'
one "iptables -m state" "$IPT" '*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -m state --state ESTABLISHED -j ACCEPT
COMMIT'
one "iptables CONNMARK" "$IPT" '*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -j CONNMARK --save-mark
COMMIT'
one "iptables MARK" "$IPT" '*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -j MARK --set-xmark 0x1/0xffffffff
COMMIT'
one "iptables NOTRACK" "$IPT" '*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p udp --dport 1 -j NOTRACK
COMMIT'
one "iptables MASQUERADE" "$IPT" '*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o nope -j MASQUERADE
COMMIT'
uname -r > "$OUT/uname.txt"
cat "$OUT/cases.txt" | grep '^=='
