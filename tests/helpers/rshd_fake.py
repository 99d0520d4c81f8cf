#!/usr/bin/env python3
# A scripted, misbehaving rshd for the mrsh rsh error tests.
#
#   rshd_fake.py ADDR PORT MODE [ARG]
#
# Listens on ADDR:PORT, serves connections one at a time (for at most
# 120 s in all), reads the rcmd request "port\0locuser\0remuser\0cmd\0" and
# then, by MODE:
#   no-back       never connects back for stderr; holds the connection
#   wrong-port    connects back from a non-reserved port, then status 0
#   wrong-host A  connects back from address A (reserved port), status 0
#   bad-status    connects back properly, then sends status byte 0x07
#   ok TEXT       connects back properly, status 0, TEXT on stdout (no
#                 marker: exit status unknown), "err" on stderr, closes
#   error TEXT    connects back properly, then the error byte \1 and TEXT
#                 (Python escapes such as \x1b decoded) and a newline,
#                 closes; TEXT may hold terminal escape sequences
#   dribble TEXT  like ok, but sends TEXT and then mrsh's exit status
#                 marker (taken from the command, with status 7) one byte
#                 per segment, so the marker arrives split across reads
#   error-eof TEXT  like error, but no newline: TEXT, then closes
#   close-early   connects back properly, then closes the main connection
#                 without a status byte
#   reset         resets the main connection (RST) instead of a status byte
#   reset-stderr  connects back properly, resets that connection, then
#                 holds the main one without a status byte
#   marker TEXT   like ok, then "\n" + the marker taken from the command +
#                 TEXT (the exit status part, sent as is), closes
# ADDR may be an IPv6 address; wrong-host's A then is one too.
# Every connection is logged to stdout (the test's log file).
import re
import socket
import struct
import sys
import time

DEADLINE = time.monotonic() + 120


def log(*a):
    print(*a, flush=True)


def read_request(conn):
    buf = b""
    while buf.count(b"\0") < 4:
        conn.settimeout(max(0.1, DEADLINE - time.monotonic()))
        d = conn.recv(4096)
        if not d:
            return None
        buf += d
    return buf.split(b"\0")[:4]


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def reset(sock):
    # SO_LINGER with a zero timeout: close() sends an RST.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


def connect_back(client_addr, port, src_addr, reserved):
    s = socket.socket(family(client_addr), socket.SOCK_STREAM)
    if reserved:
        for p in range(1023, 511, -1):
            try:
                s.bind((src_addr, p))
                break
            except OSError:
                continue
        else:
            raise OSError("no reserved port")
    else:
        s.bind((src_addr, 0))
    s.settimeout(10)
    # Logged before connect(): mrsh may reset it before connect() returns.
    log("connecting back from", s.getsockname(), "to", (client_addr, port))
    s.connect((client_addr, port))
    return s


def wait_eof(conn):
    conn.settimeout(max(0.1, DEADLINE - time.monotonic()))
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def serve(conn, peer, local, mode, arg):
    req = read_request(conn)
    if req is None:
        return
    port = int(req[0] or b"0")
    log("request from", peer, "stderr port", port, "user", req[2])
    back = None
    if mode == "no-back":
        wait_eof(conn)
        return
    if mode == "wrong-port":
        back = connect_back(peer[0], port, local[0], False)
    elif mode == "wrong-host":
        back = connect_back(peer[0], port, arg, True)
    elif mode == "reset":
        reset(conn)
        return
    elif mode in ("bad-status", "ok", "dribble", "error", "error-eof",
                  "close-early", "reset-stderr", "marker"):
        if port:
            back = connect_back(peer[0], port, local[0], True)
    if mode in ("error", "error-eof"):
        conn.sendall(b"\x01" + arg.encode("latin-1").decode(
            "unicode_escape").encode("latin-1") +
            (b"\n" if mode == "error" else b""))
        if back is not None:
            back.close()
        conn.close()
        return
    if mode == "close-early":
        conn.close()
        if back is not None:
            back.close()
        return
    if mode == "reset-stderr":
        if back is not None:
            reset(back)
        wait_eof(conn)
        return
    if mode == "bad-status":
        conn.sendall(b"\x07")
    else:
        conn.sendall(b"\0")
    if mode == "dribble":
        m = re.search(rb"printf '\\n%s%s:%d\\n' (\S+) (\S+) ", req[3])
        data = arg.encode()
        if m:
            data += b"\n" + m.group(1) + m.group(2) + b":7\n"
        else:
            log("no marker in", req[3])
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
            time.sleep(0.002)
        if back is not None:
            back.close()
        wait_eof(conn)
        return
    if mode == "marker":
        m = re.search(rb"printf '\\n%s%s:%d\\n' (\S+) (\S+) ", req[3])
        if not m:
            log("no marker in", req[3])
            return
        conn.sendall(b"out\n\n" + m.group(1) + m.group(2) + b":" +
                     arg.encode())
        if back is not None:
            back.close()
        conn.close()
        return
    if mode == "ok":
        conn.sendall(arg.encode())
        if back is not None:
            back.sendall(b"err\n")
            back.close()
        conn.close()
        return
    wait_eof(conn)
    if back is not None:
        back.close()


def main():
    addr, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    arg = sys.argv[4] if len(sys.argv) > 4 else ""
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    while time.monotonic() < DEADLINE:
        ls.settimeout(max(0.1, DEADLINE - time.monotonic()))
        try:
            conn, peer = ls.accept()
        except socket.timeout:
            break
        try:
            serve(conn, peer, conn.getsockname(), mode, arg)
        except OSError as e:
            log("error:", e)
        finally:
            conn.close()


main()
