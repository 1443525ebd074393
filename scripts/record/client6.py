#!/usr/bin/env python3
"""IPv6 (and, for serve/tcp/udp, IPv4) client/server traffic for the IPv6 recorders (run inside a namespace with `ip netns exec`).

  client6.py serve ADDR [TCPPORT [UDPPORT [N]]]  N (default 1) TCP connections on TCPPORT
                                         (answer "pong:" + data, wait for the client's close) and
                                         one UDP datagram on UDPPORT (answer "answer:" + data);
                                         a port of 0 is not served; exits after 15 s at the latest
  client6.py tcp SRC SPORT DST DPORT     connect (SPORT 0: any port), send "ping", print the
                                         answer, close
  client6.py udp SRC SPORT DST DPORT     send "query", print the answer
  client6.py tcp-try SRC SPORT DST DPORT connect and print what happened (connected, or the
                                         errno: a RST is ECONNREFUSED, an ICMPv6 error EACCES or
                                         ECONNREFUSED by its code)
  client6.py ping SRC DST ID [TCLASS]    one ICMPv6 echo request (raw socket, sequence 1, 8 bytes
                                         of data) with that traffic class; print the reply's
                                         sequence, or that none came within 2 s
  client6.py udp-ext SRC SPORT DST DPORT hop|dst
                                         send one datagram with a hop-by-hop or destination
                                         options header (PadN, 8 bytes) before the UDP header
  client6.py udp-err SRC SPORT DST DPORT [HOPLIMIT [WAIT]]
                                         send one datagram with IPV6_RECVERR on and print the first
                                         error-queue entry (origin, ICMPv6 type/code, offender)
"""
import errno, select, socket, struct, sys, threading, time

IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)


def fam(addr):
    """AF_INET6 for an IPv6 address, AF_INET for an IPv4 one (the dual-stack recorders use both)."""
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addr, tport, uport, n):
    def tcp():
        s = socket.socket(fam(addr))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, tport)); s.listen(8); s.settimeout(15)
        for _ in range(n):
            c, a = s.accept(); c.settimeout(5)
            d = c.recv(100); c.sendall(b"pong:" + d)
            c.recv(100); c.close()
            print("server tcp from [%s]:%d" % (a[0], a[1]), flush=True)

    def udp():
        u = socket.socket(fam(addr), socket.SOCK_DGRAM)
        u.bind((addr, uport)); u.settimeout(15)
        d, a = u.recvfrom(100); u.sendto(b"answer:" + d, a)
        print("server udp from [%s]:%d" % (a[0], a[1]), flush=True)

    ts = [threading.Thread(target=f, daemon=True) for f, p in ((tcp, tport), (udp, uport)) if p]
    for t in ts:
        t.start()
    for t in ts:
        t.join(15)


def tcp(src, sport, dst, dport):
    s = socket.socket(fam(dst)); s.settimeout(5)
    s.bind((src, sport))
    s.connect((dst, dport))
    me = s.getsockname()
    s.sendall(b"ping")
    print("tcp [%s]:%d -> [%s]:%d got %r" % (me[0], me[1], dst, dport, s.recv(100)), flush=True)
    time.sleep(0.2); s.close(); time.sleep(0.5)


def tcp_try(src, sport, dst, dport):
    s = socket.socket(fam(dst)); s.settimeout(3)
    s.bind((src, sport))
    try:
        s.connect((dst, dport))
        what = "connected"
    except OSError as e:
        what = "errno=%s" % errno.errorcode.get(e.errno, e.errno)
    print("tcp [%s]:%d -> [%s]:%d: %s" % (src, sport, dst, dport, what), flush=True)
    s.close()


def udp(src, sport, dst, dport):
    u = socket.socket(fam(dst), socket.SOCK_DGRAM); u.settimeout(3)
    u.bind((src, sport))
    u.sendto(b"query", (dst, dport))
    d, a = u.recvfrom(100)
    print("udp [%s]:%d -> [%s]:%d got %r from [%s]:%d" % (src, sport, dst, dport, d, a[0], a[1]), flush=True)


def udp_err(src, sport, dst, dport, hops=None, wait=1.0):
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.bind((src, sport)); u.setblocking(False)
    u.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
    if hops:
        u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
    u.connect((dst, dport)); u.send(b"probe%d" % sport)
    why = "no error"
    end = time.time() + wait
    p = select.poll(); p.register(u, select.POLLERR)
    while time.time() < end and why == "no error":
        p.poll(max(0, end - time.time()) * 1000)
        try:
            _, anc, _, _ = u.recvmsg(512, 512, socket.MSG_ERRQUEUE)
        except BlockingIOError:
            time.sleep(0.05); continue
        for lvl, typ, d in anc:
            if lvl == socket.IPPROTO_IPV6 and typ == IPV6_RECVERR:
                e, orig, t, c, _, info, _ = struct.unpack("=IBBBBII", d[:16])
                off = socket.inet_ntop(socket.AF_INET6, d[24:40])
                why = "errno=%s origin=%d icmp6 type=%d code=%d offender=%s" % (errno.errorcode.get(e, e), orig, t, c, off)
    print("udp [%s]:%d -> [%s]:%d hoplimit=%s: %s" % (src, sport, dst, dport, hops or 64, why), flush=True)
    u.close()


def ping(src, dst, ident, tclass=0):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6); s.settimeout(2)
    s.bind((src, 0))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, tclass)
    # the kernel fills in an ICMPv6 raw socket's checksum (RFC 3542 3.1)
    s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, 1) + b"natsim-6", (dst, 0))
    end = time.time() + 2
    got = "no reply"
    while time.time() < end and got == "no reply":
        try:
            d, a = s.recvfrom(200)
        except socket.timeout:
            break
        if d[0] == 129 and struct.unpack("!H", d[4:6])[0] == ident:
            got = "echo-reply seq %d from %s" % (struct.unpack("!H", d[6:8])[0], a[0])
    print("ping %s -> %s tclass 0x%x: %s" % (src, dst, tclass, got), flush=True)


def udp_ext(src, sport, dst, dport, kind):
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.bind((src, sport))
    # struct ipv6_opt_hdr: next header (the kernel's), length 0 (8 bytes), PadN of 4 zero bytes
    opt = {"hop": socket.IPV6_HOPOPTS, "dst": socket.IPV6_DSTOPTS}[kind]
    u.setsockopt(socket.IPPROTO_IPV6, opt, b"\x00\x00\x01\x04\x00\x00\x00\x00")
    u.sendto(b"ext-" + kind.encode(), (dst, dport))
    print("udp [%s]:%d -> [%s]:%d with a %s options header sent" % (src, sport, dst, dport, kind), flush=True)
    u.close()


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "serve":
        serve(a[1], int(a[2]) if len(a) > 2 else 80, int(a[3]) if len(a) > 3 else 53, int(a[4]) if len(a) > 4 else 1)
    elif a[0] == "tcp":
        tcp(a[1], int(a[2]), a[3], int(a[4]))
    elif a[0] == "tcp-try":
        tcp_try(a[1], int(a[2]), a[3], int(a[4]))
    elif a[0] == "udp":
        udp(a[1], int(a[2]), a[3], int(a[4]))
    elif a[0] == "ping":
        ping(a[1], a[2], int(a[3]), int(a[4], 0) if len(a) > 4 else 0)
    elif a[0] == "udp-ext":
        udp_ext(a[1], int(a[2]), a[3], int(a[4]), a[5])
    elif a[0] == "udp-err":
        udp_err(a[1], int(a[2]), a[3], int(a[4]), int(a[5]) if len(a) > 5 and a[5] != "0" else None, float(a[6]) if len(a) > 6 else 1.0)
    else:
        sys.exit(__doc__)
