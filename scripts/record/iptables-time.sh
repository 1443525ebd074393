#!/usr/bin/env bash
# -m time (xt_time.c time_mt, UTC): the router's FORWARD chain drops pings by the wall-clock time
# of the moment they pass — rules written around the recording's own minute and weekday: one
# for tomorrow's weekday, one a range that wraps past midnight and leaves the moment out, one
# around it today and on this day of the month (only that one matches).
. "$(dirname "$0")/lib.sh"
out=${1:?out dir}; mkdir -p "$out"
. "$(dirname "$0")/topo-basic.sh"
now=$(date -u +%s)
hm(){ date -u -d "@$1" +%H:%M:%S; }
today=$(date -u +%a); tomorrow=$(date -u -d tomorrow +%a); dom=$(date -u +%-d)
inns rt iptables-restore <<R
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p icmp -s 10.0.3.2 -m time --timestart $(hm $((now - 600))) --timestop $(hm $((now + 600))) --weekdays $tomorrow -j DROP
-A FORWARD -p icmp -s 10.0.3.2 -m time --timestart $(hm $((now + 600))) --timestop $(hm $((now - 300))) --weekdays $today -j DROP
-A FORWARD -p icmp -s 10.0.3.1 -m time --timestart $(hm $((now - 600))) --timestop $(hm $((now + 600))) --monthdays $dom --weekdays $today -j DROP
COMMIT
R
inns rt iptables-save > "$out/iptables-save.txt"
date -u +%FT%TZ > "$out/recorded-at.txt"
start_capture rt "$out"
{
  echo "# pings from 10.0.3.1 (dropped: now, today, this day of the month) and 10.0.3.2 (the first rule: not today; the second: a range that wraps, the moment outside it: pass)"
  inns c python3 "$CRAFT" ping 10.0.3.1 192.168.206.1 1 16962
  inns c python3 "$CRAFT" ping 10.0.3.2 192.168.206.1 2 16963
} > "$out/client.txt" 2>&1
stop_capture
snapshot_counted rt "$out"
finish "$out"
