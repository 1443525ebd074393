#!/bin/bash
# What iptables-restore makes of hand-written rules that name a protocol's options without its
# -m (libxtables command_default → load_proto: `-p tcp --syn` loads the tcp match), and which
# tcp flag names libxt_tcp knows: each rules file is restored in a fresh namespace and saved
# again; a refused one keeps its error. No traffic.
# Usage: scripts/record/iptables-implicit-proto.sh [OUTDIR]
NS_PREFIX=implp
source "$(dirname "$0")/lib.sh"
OUT=${1:-fixtures/kernel-experiments/iptables-implicit-proto}
mkdir -p "$OUT"
mkns r
save(){ # family input output
  local restore=iptables-restore save=iptables-save
  [ "$1" = 6 ] && { restore=ip6tables-restore; save=ip6tables-save; }
  if inns r $restore "$2" 2>"$3.err"; then inns r $save | grep -v '^#' > "$3"; rm -f "$3.err"
  else echo "refused" > "$3"; fi
  inns r $restore /dev/stdin <<<$'*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT' # flush for the next file
}
save 4 "$OUT/implicit.rules" "$OUT/implicit.saved"
save 6 "$OUT/implicit6.rules" "$OUT/implicit6.saved"
for f in "$OUT"/refused-*.rules; do save 4 "$f" "${f%.rules}.saved"; done
iptables -V > "$OUT/iptables-version.txt"
uname -r > "$OUT/kernel.txt"
