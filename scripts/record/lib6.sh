# IPv6 helpers for the recorders (issue 18). Source after lib.sh: it sets V6=0 so mkns leaves
# IPv6 enabled, and quiets what a namespace would otherwise say on its own before any traffic:
# no router solicitations, no DAD on the link-local addresses (global ones are added nodad).
# NDP (neighbour solicitation/advertisement) still appears in the captures, as it should.
V6=0
mkns6(){ mkns "$@"; local r; for r in "$@"; do
  inns $r sysctl -qw net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0 \
    net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.dad_transmits=0 \
    net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0; done; }
# wait for the MLD reports a new interface sends (2 unsolicited, up to 1 s apart) to be over
settle6(){ sleep 2.5; }
# snapshot6 ROLE OUTDIR [ipv4]: snapshot plus the IPv6 views: ip6-route.json, ip -6 addr/route text,
# conntrack -L -f ipv6 (and -f ipv4 with "ipv4"; left out when it lists nothing), sysctl.txt with the IPv6 settings
snapshot6(){ local r=$1 o=$2
  snapshot $r "$o"
  inns $r conntrack -L -f ipv6 > "$o/conntrack-L-ipv6.txt" 2>/dev/null || true
  [ -s "$o/conntrack-L-ipv6.txt" ] || rm -f "$o/conntrack-L-ipv6.txt"
  if [ "${3:-}" = ipv4 ]; then inns $r conntrack -L -f ipv4 > "$o/conntrack-L-ipv4.txt" 2>/dev/null || true; fi
  inns $r ip -j -6 route show table all > "$o/ip6-route.json"
  inns $r ip -6 addr > "$o/ip6-addr.txt"
  inns $r ip -6 route show table all > "$o/ip6-route.txt"
  inns $r sysctl -a 2>/dev/null | grep -E 'nf_conntrack|ip_forward|ip_local_port_range|tcp_syn_retries|^net\.ipv6\.conf\.[^.]+\.(forwarding|disable_ipv6|accept_ra|accept_dad|hop_limit|use_tempaddr|router_solicitations|addr_gen_mode) =|^net\.ipv6\.icmp\.|^net\.ipv6\.route\.(max_size|gc)' > "$o/sysctl.txt" || true
}
