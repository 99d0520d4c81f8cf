#!/usr/bin/env python3
"""A TCP server that misbehaves, for error-path tests of ssh clients.

    fake-server.py MODE PORTFILE [ADDRESS]

Listens on ADDRESS (default 127.0.0.1) port 0, writes the chosen port to
PORTFILE once listening (write to a temp name, then rename: a reader never
sees half a number), then serves every connection according to MODE until
killed:

    silent    accept and never send anything (a hung daemon, a black hole
              behind a firewall that completes the handshake)
    garbage   send a line that is not an SSH banner (an HTTP error page),
              then keep the connection open without reading
    close     accept and close at once

Connections are kept in a list, so nothing is closed by the garbage
collector. Stops on SIGTERM/SIGINT.
"""

import os
import signal
import socket
import sys

GARBAGE = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n"
           b"<html><body>this is not an ssh server</body></html>\r\n")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("silent", "garbage", "close"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    mode, portfile = sys.argv[1], sys.argv[2]
    address = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind((address, 0))
    srv.listen(512)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, portfile)

    held = []
    try:
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
            held.append(conn)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
