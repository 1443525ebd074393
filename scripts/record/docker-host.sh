# Sourced by the docker-host recordings. docker_iptables ROLE loads docker's iptables rules
# (userland proxy off, so hairpin is NATed by the kernel) into ROLE: 8080 published as
# 172.17.0.2:80 on docker0 (172.17.0.0/16).
docker_iptables(){ inns $1 iptables-restore <<'R'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
R
}
# docker_snapshot ROLE OUTDIR: the node snapshot (lib.sh's) and what a bridge host adds to it
docker_snapshot(){
  snapshot $1 "$2"
  inns $1 sysctl -a 2>/dev/null | grep -E '^net\.bridge\.bridge-nf' >> "$2/sysctl.txt" || true
  # the bridge and its ports in detail (kind, ageing_time, each port's state, hairpin, learning, flood)
  inns $1 ip -j -d link > "$2/ip-link-details.json"
  cat /sys/devices/system/cpu/online > "$2/cpu-online.txt"   # conntrack -S has a line per CPU
  inns $1 bridge -j -d link show > "$2/bridge-ports.json"
}
