#!/usr/bin/env python3
"""Hold TCP ports the way a foreign program does, for the port-pool tests.

    port-holder.py PORT...

Listens on 0.0.0.0:PORT for each PORT (SO_REUSEADDR, so a port in
TIME_WAIT can be held too), prints "ready" once every socket listens, then
sleeps until killed (at most 10 minutes). Exits 1 with the reason when a
port cannot be bound. A PORT written as PORT/kernel is listened on, then
sent over a socketpair that nobody reads and closed: the kernel holds it,
and no process has it among its files.
"""

import array
import socket
import sys
import time


def main():
    socks = []
    for p in sys.argv[1:]:
        kernel = p.endswith("/kernel")
        p = p.split("/")[0]
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", int(p)))
        except OSError as e:
            print("cannot bind port %s: %s" % (p, e), flush=True)
            return 1
        s.listen(1)
        if kernel:
            a, b = socket.socketpair()
            a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                array.array("i", [s.fileno()]))])
            s.close()
            socks += [a, b]
            continue
        socks.append(s)
    print("ready", flush=True)
    time.sleep(600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
