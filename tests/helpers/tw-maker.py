#!/usr/bin/env python3
"""Leave client-side TIME_WAIT sockets behind, for the --ports-report tests.

    tw-maker.py
    tw-maker.py server PORT...

From fixed source ports (40050-40054) it connects to listeners of its own
on 127.0.0.1:50001, 127.0.0.1:50002 and [::1]:50003 and closes first, so
that this side's sockets end in TIME_WAIT: one towards 127.0.0.1:50001,
two towards 127.0.0.1:50002 and two towards [::1]:50003. Run it only in a
network namespace of the test's own. Prints "done".

With "server", for each PORT it listens on 127.0.0.1:PORT, connects from
PORT + 1000, and the server side closes first: the accepted socket ends in
TIME_WAIT on PORT (the listener is closed; hold the port again to make
that TIME_WAIT server-side).
"""

import socket
import sys

if sys.argv[1:2] == ["server"]:
    for port in map(int, sys.argv[2:]):
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port)); s.listen(1)
        c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("127.0.0.1", port + 1000)); c.connect(("127.0.0.1", port))
        a, _ = s.accept()
        a.close()               # the server closes first
        c.recv(1); c.close()    # EOF seen, then the client closes
        s.close()
    print("done")
    sys.exit(0)

pairs = [("127.0.0.1", 50001, 40050), ("127.0.0.1", 50002, 40051),
         ("127.0.0.1", 50002, 40052), ("::1", 50003, 40053), ("::1", 50003, 40054)]
srv = {}
for host, port, _ in pairs:
    if (host, port) in srv:
        continue
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(8); srv[(host, port)] = s
for host, port, sport in pairs:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    c = socket.socket(fam); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((host, sport)); c.connect((host, port))
    a, _ = srv[(host, port)].accept()
    c.close()                   # the client closes first
    a.recv(1); a.close()        # EOF seen, then the server closes
for s in srv.values():
    s.close()
print("done")
