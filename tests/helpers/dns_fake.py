#!/usr/bin/env python3
"""A tiny authoritative DNS server for the canonicalization tests: UDP on
ADDR:PORT, answers A and AAAA queries from a zone file whose lines are
"NAME A ADDRESS", "NAME AAAA ADDRESS" or "NAME CNAME TARGET" (names without
the trailing dot), following CNAME chains within the zone as a recursive
resolver would (the chain first, then the addresses). A name the zone does
not hold is NXDOMAIN. "NAME DROP" makes a name the server never answers
(as a lost or unreachable server's): the question is logged, no reply
goes out, so the resolver's own timeout (or the caller's) decides. Every question is appended to LOG ("NAME TYPE").
Writes READY to stdout once bound. Used only inside the test's own network
namespace (127.0.0.1:53)."""
import socket
import struct
import sys


def parse_name(pkt, off):
    labels = []
    while True:
        n = pkt[off]
        if n == 0:
            return ".".join(labels), off + 1
        labels.append(pkt[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def enc_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def rr(name, rtype, rdata):
    return enc_name(name) + struct.pack(">HHIH", rtype, 1, 60,
                                        len(rdata)) + rdata


def main():
    addr, port, zonefile, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    zone = {}
    drop = set()
    with open(zonefile) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                zone.setdefault(parts[0].lower(), []).append(
                    (parts[1].upper(), parts[2]))
            elif len(parts) == 2 and parts[1].upper() == "DROP":
                drop.add(parts[0].lower())
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    print("READY", flush=True)
    while True:
        pkt, peer = sock.recvfrom(4096)
        if len(pkt) < 12:
            continue
        qid, flags, qd = struct.unpack(">HHH", pkt[:6])
        qname, off = parse_name(pkt, 12)
        qtype, = struct.unpack(">H", pkt[off:off + 2])
        question = pkt[12:off + 4]
        with open(log, "a") as f:
            f.write("%s %s\n" % (qname, {1: "A", 28: "AAAA"}.get(qtype, qtype)))
        answers = []
        name = qname.lower().rstrip(".")
        if name in drop:
            continue
        rcode = 0
        if name not in zone:
            rcode = 3
        hops = 0
        while name in zone and hops < 16:
            recs = zone[name]
            cn = [t for (k, t) in recs if k == "CNAME"]
            if cn:
                answers.append(rr(name, 5, enc_name(cn[0])))
                name = cn[0].lower()
                hops += 1
                continue
            for (k, v) in recs:
                if k == "A" and qtype == 1:
                    answers.append(rr(name, 1, socket.inet_pton(socket.AF_INET, v)))
                elif k == "AAAA" and qtype == 28:
                    answers.append(rr(name, 28, socket.inet_pton(socket.AF_INET6, v)))
            break
        hdr = struct.pack(">HHHHHH", qid, 0x8400 | (flags & 0x0100) | 0x80 | rcode,
                          1, len(answers), 0, 0)
        sock.sendto(hdr + question + b"".join(answers), peer)


if __name__ == "__main__":
    main()
