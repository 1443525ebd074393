#!/usr/bin/env python3
"""Crafted packets for the recorders (root; run inside a namespace with `ip netns exec`).

  craft.py ping SRC DST COUNT [ID]           ICMP echo requests over a raw socket, 0.2 s apart,
                                             printing each reply (ping may not be installed)
  craft.py tcp SRC SPORT DST DPORT FLAGS [SEQ [ACK]]
                                             one TCP segment with the given flags (e.g. SF, SR, S, A),
                                             valid checksum, no reply expected
  craft.py tcp6 SRC SPORT DST DPORT FLAGS [SEQ [ACK]]
                                             the same over IPv6 (the kernel fills in the IPv6 header
                                             and, with IPV6_CHECKSUM, the TCP checksum)
  craft.py ping6 SRC DST COUNT [ID]          ICMPv6 echo requests over a raw socket (the kernel fills
                                             in the checksum), 0.2 s apart, printing each reply
  craft.py icmp-unreach SRC DST QSRC QSPORT QDST QDPORT
                                             an ICMP port unreachable from SRC to DST quoting a UDP
                                             datagram QSRC:QSPORT -> QDST:QDPORT that never existed
"""
import os, select, socket, struct, sys, time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return socket.inet_aton(a)


def iphdr(src, dst, proto, plen, ident, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + plen, ident, 0x4000, ttl, proto, 0, ip4(src), ip4(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def ping(src, dst, count, ident):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((src, 0))
    for seq in range(1, count + 1):
        payload = struct.pack("!d", time.time()) + bytes(range(48))
        h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
        h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
        t = time.time()
        s.sendto(h, (dst, 0))
        got = None
        end = t + 1.0
        while time.time() < end and got is None:
            r, _, _ = select.select([s], [], [], max(0, end - time.time()))
            if not r:
                break
            d, a = s.recvfrom(2048)
            ihl = (d[0] & 15) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", d[ihl:ihl + 8])
            if typ == 0 and rid == ident and rseq == seq:
                got = (a[0], d[8], time.time() - t)
        if got:
            print("%d bytes from %s: icmp_seq=%d ttl=%d time=%.3f ms" % (len(h), got[0], seq, got[1], got[2] * 1000), flush=True)
        else:
            print("no reply for icmp_seq=%d" % seq, flush=True)
        time.sleep(0.2)


def ping6(src, dst, count, ident):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    s.bind((src, 0))
    for seq in range(1, count + 1):
        payload = struct.pack("!d", time.time()) + bytes(range(48))
        h = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + payload
        t = time.time()
        s.sendto(h, (dst, 0))
        got = None
        end = t + 1.0
        while time.time() < end and got is None:
            r, _, _ = select.select([s], [], [], max(0, end - time.time()))
            if not r:
                break
            d, anc, _, a = s.recvmsg(2048, 64)
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", d[:8])
            if typ == 129 and rid == ident and rseq == seq:
                hl = [struct.unpack("i", c[2][:4])[0] for c in anc if c[1] == socket.IPV6_HOPLIMIT]
                got = (a[0], hl[0] if hl else -1, time.time() - t)
        if got:
            print("%d bytes from %s: icmp_seq=%d hlim=%d time=%.3f ms" % (len(h), got[0], seq, got[1], got[2] * 1000), flush=True)
        else:
            print("no reply for icmp_seq=%d" % seq, flush=True)
        time.sleep(0.2)


FLAGS = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16, "U": 32}


def tcp(src, sport, dst, dport, flags, seq=1000, ack=0):
    f = 0
    for c in flags:
        f |= FLAGS[c]
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, f, 64240, 0, 0)
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(t))
    t = t[:16] + struct.pack("!H", csum(pseudo + t)) + t[18:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(iphdr(src, dst, 6, len(t), os.getpid() & 0xFFFF) + t, (dst, 0))
    print("sent tcp %s:%d -> %s:%d flags %s seq %d ack %d" % (src, sport, dst, dport, flags, seq, ack), flush=True)


def tcp6(src, sport, dst, dport, flags, seq=1000, ack=0):
    f = 0
    for c in flags:
        f |= FLAGS[c]
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, f, 64240, 0, 0)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.setsockopt(socket.IPPROTO_IPV6, getattr(socket, "IPV6_CHECKSUM", 7), 16)
    s.bind((src, 0))
    s.sendto(t, (dst, 0))
    print("sent tcp [%s]:%d -> [%s]:%d flags %s seq %d ack %d" % (src, sport, dst, dport, flags, seq, ack), flush=True)


def icmp_unreach(src, dst, qsrc, qsport, qdst, qdport):
    body = b"ghost"
    u = struct.pack("!HHHH", qsport, qdport, 8 + len(body), 0) + body
    q = iphdr(qsrc, qdst, 17, len(u), 0x1234) + u
    h = struct.pack("!BBHI", 3, 3, 0, 0) + q
    h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(iphdr(src, dst, 1, len(h), os.getpid() & 0xFFFF) + h, (dst, 0))
    print("sent icmp port unreachable %s -> %s quoting udp %s:%d -> %s:%d" % (src, dst, qsrc, qsport, qdst, qdport), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "ping":
        ping(a[1], a[2], int(a[3]), int(a[4]) if len(a) > 4 else 0x4242)
    elif a[0] == "ping6":
        ping6(a[1], a[2], int(a[3]), int(a[4]) if len(a) > 4 else 0x4242)
    elif a[0] == "tcp":
        tcp(a[1], int(a[2]), a[3], int(a[4]), a[5], *[int(x) for x in a[6:8]])
    elif a[0] == "tcp6":
        tcp6(a[1], int(a[2]), a[3], int(a[4]), a[5], *[int(x) for x in a[6:8]])
    elif a[0] == "icmp-unreach":
        icmp_unreach(a[1], a[2], a[3], int(a[4]), a[5], int(a[6]))
    else:
        sys.exit(__doc__)
