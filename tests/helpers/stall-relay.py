#!/usr/bin/env python3
"""A ProxyCommand that stalls a connection at a known point.

    stall-relay.py --after BYTES --stalled FILE --go FILE HOST PORT

Connects to HOST:PORT and relays stdin to the socket and the socket to
stdout. Once BYTES bytes went from stdin to the socket, it creates
--stalled and stops reading stdin (the client's writes back up, whatever
the machine's speed) until --go exists; then it relays on to the end.
Gives up (exit 1) if --go does not appear within --timeout seconds.
"""

import argparse
import os
import select
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--after", type=int, required=True)
    ap.add_argument("--stalled", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    args = ap.parse_args()

    sock = socket.create_connection((args.host, args.port))
    sent = 0
    stalled_at = None
    up_open = True
    while True:
        if stalled_at is not None:
            if os.path.exists(args.go):
                stalled_at = None
            elif time.monotonic() - stalled_at > args.timeout:
                return 1
        watch = [sock]
        if up_open and stalled_at is None:
            watch.append(0)
        ready, _, _ = select.select(watch, [], [], 0.05)
        if 0 in ready:
            want = 65536
            if sent < args.after:
                want = min(want, args.after - sent)
            data = os.read(0, want)
            if not data:
                up_open = False
                sock.shutdown(socket.SHUT_WR)
            else:
                sock.sendall(data)
                sent += len(data)
                if sent == args.after:
                    with open(args.stalled, "w"):
                        pass
                    stalled_at = time.monotonic()
        if sock in ready:
            data = sock.recv(65536)
            if not data:
                return 0
            view = memoryview(data)
            while view:
                n = os.write(1, view)
                view = view[n:]


if __name__ == "__main__":
    sys.exit(main())
