#!/usr/bin/env python3
"""Run a command whose stdout is a TCP connection that takes bytes, stalls,
then fails with an error other than EPIPE: for the output tests.

    sink-reset.py GOFILE CMD [ARG...]

CMD's stdout is a TCP socket on 127.0.0.1 with small buffers at both ends
(4 KiB asked for), so CMD's bytes back up in CMD itself. The other end
reads nothing; once GOFILE exists it closes with SO_LINGER 0: the kernel
sends a RST, and CMD's next write fails with ECONNRESET. Exits with CMD's
status (128+N when killed by signal N). Gives up waiting after 10 minutes.
"""

import os
import socket
import struct
import sys
import time


def main():
    gofile, cmd = sys.argv[1], sys.argv[2:]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    out = socket.socket()
    out.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    out.connect(ls.getsockname())
    conn, _ = ls.accept()
    ls.close()
    pid = os.fork()
    if pid == 0:
        conn.close()
        os.dup2(out.fileno(), 1)
        out.close()
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            sys.stderr.write("sink-reset.py: %s: %s\n" % (cmd[0], e))
            os._exit(127)
    out.close()
    deadline = time.time() + 600
    while not os.path.exists(gofile) and time.time() < deadline:
        time.sleep(0.05)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    conn.close()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
