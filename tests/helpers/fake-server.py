#!/usr/bin/env python3
"""A TCP server that misbehaves, for error-path tests of ssh clients.

    fake-server.py MODE PORTFILE [ADDRESS]

Listens on ADDRESS (default 127.0.0.1; IPv6 if it has a colon) port 0, writes the chosen port to
PORTFILE once listening (write to a temp name, then rename: a reader never
sees half a number), then serves every connection according to MODE until
killed:

    silent    accept and never send anything (a hung daemon, a black hole
              behind a firewall that completes the handshake)
    garbage   send a line that is not an SSH banner (an HTTP error page),
              then keep the connection open without reading
    close     accept and close at once
    lines     send non-SSH lines without end and never a banner (libssh2
              keeps reading lines while they come); never reads
    kexinit   send a banner and a KEXINIT whose algorithm names hold
              terminal escape sequences (no algorithm in common), then
              keep the connection open
    banner-close  send a banner, read the client's banner and KEXINIT,
              then close (FIN; reads on until the client closes)
    kexinit-close  a banner and a KEXINIT the client can agree with
              (curve25519-sha256, ssh-ed25519, aes128-ctr, hmac-sha2-256),
              then close as banner-close (the key exchange cannot finish)
    kexinit-long  a banner and a KEXINIT whose kex name-list is 1500
              bytes of names no client has, then keep the connection open
    ignore-first  a banner, an SSH_MSG_IGNORE, then a KEXINIT with only
              diffie-hellman-group1-sha1; keep the connection open
    ignore-big  as ignore-first, with 6000 bytes of IGNORE data
    banner-noeol  "SSH-2.0-fake" without its line end, then close
    bad-length  a banner, then a packet length of 0x7ffffff0 (and 16
              bytes); keep the connection open
    noaccept  listen and never accept: connections complete in the
              kernel's queue and are never served (a stopped daemon)
    full      a listener whose accept queue is full (backlog 0, one
              connection of its own waiting in it): a new connect gets no
              answer and stays in progress until the client gives up

Connections are kept in a list, so nothing is closed by the garbage
collector. Stops on SIGTERM/SIGINT.
"""

import os
import signal
import socket
import struct
import sys
import threading

GARBAGE = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n"
           b"<html><body>this is not an ssh server</body></html>\r\n")


LINE = b"not ssh, just another line of a server that never stops\r\n" * 64

ESC_KEX = b"\x1b]0;pwned-title\x07evil-kex"
ESC_HOSTKEY = b"\x1b[2Jssh-evil"


def packet(payload):
    pad = 8 - (len(payload) + 5) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", len(payload) + pad + 1, pad) + payload + \
        b"\0" * pad


def kexinit_packet(kex=ESC_KEX, hostkey=ESC_HOSTKEY):
    def namelist(v):
        return struct.pack(">I", len(v)) + v
    payload = bytes([20]) + b"\0" * 16 + namelist(kex) + \
        namelist(hostkey) + namelist(b"aes128-ctr") * 2 + \
        namelist(b"hmac-sha2-256") * 2 + namelist(b"none") * 2 + \
        namelist(b"") * 2 + b"\0" + b"\0" * 4
    return packet(payload)


def close_after_hello(conn):
    """Read the client's banner line and a packet, then FIN; drain."""
    got = b""
    conn.settimeout(30)
    try:
        while b"\n" not in got or len(got.split(b"\n", 1)[1]) < 5:
            d = conn.recv(4096)
            if not d:
                break
            got += d
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()


def endless_lines(conn):
    try:
        while True:
            conn.sendall(LINE)
    except OSError:
        pass


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("silent", "garbage", "close",
                                                 "lines", "kexinit",
                                                 "noaccept", "full",
                                                 "banner-close",
                                                 "kexinit-close",
                                                 "kexinit-long",
                                                 "ignore-first",
                                                 "ignore-big",
                                                 "bad-length",
                                                 "banner-noeol"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    mode, portfile = sys.argv[1], sys.argv[2]
    address = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))

    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.bind((address, 0))
    held = []
    if mode == "full":
        srv.listen(0)
        held.append(socket.create_connection(srv.getsockname()[:2]))
    else:
        srv.listen(512)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, portfile)

    try:
        if mode in ("noaccept", "full"):
            while True:
                signal.pause()
        while True:
            conn, _ = srv.accept()
            if mode == "close":
                conn.close()
                continue
            if mode == "garbage":
                try:
                    conn.sendall(GARBAGE)
                except OSError:
                    pass
            if mode == "kexinit":
                try:
                    conn.sendall(b"SSH-2.0-fake\r\n" + kexinit_packet())
                except OSError:
                    pass
            try:
                if mode == "banner-close":
                    conn.sendall(b"SSH-2.0-fake\r\n")
                if mode == "kexinit-close":
                    conn.sendall(b"SSH-2.0-fake\r\n" + kexinit_packet(
                        b"curve25519-sha256", b"ssh-ed25519"))
                if mode in ("banner-close", "kexinit-close"):
                    threading.Thread(target=close_after_hello,
                                     args=(conn,), daemon=True).start()
                    continue
                if mode == "kexinit-long":
                    names = b",".join(b"nokex%04d@mrsh.test" % i
                                      for i in range(80))
                    conn.sendall(b"SSH-2.0-fake\r\n" + kexinit_packet(
                        names, b"ssh-ed25519"))
                if mode in ("ignore-first", "ignore-big"):
                    data = b"hi" if mode == "ignore-first" else b"x" * 6000
                    conn.sendall(b"SSH-2.0-fake\r\n" + packet(
                        bytes([2]) + struct.pack(">I", len(data)) + data) +
                        kexinit_packet(b"diffie-hellman-group1-sha1",
                                       b"ssh-ed25519"))
                if mode == "bad-length":
                    conn.sendall(b"SSH-2.0-fake\r\n" +
                                 struct.pack(">IB", 0x7ffffff0, 4) +
                                 bytes([20]) + b"\0" * 14)
                if mode == "banner-noeol":
                    conn.sendall(b"SSH-2.0-fake")
                    conn.close()
                    continue
            except OSError:
                pass
            if mode == "lines":
                threading.Thread(target=endless_lines, args=(conn,),
                                 daemon=True).start()
            held.append(conn)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
