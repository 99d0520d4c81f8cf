#!/usr/bin/env python3
"""An ssh-agent socket that misbehaves, for mrsh tests.

  fake-agent.py hung SOCK          accept every connection, never answer
  fake-agent.py slow SOCK AGENT S  forward each request to the real agent
                                   at AGENT, holding its answer S seconds

Runs until killed; the socket appears once it listens.
"""
import os
import socket
import sys
import threading
import time


def serve(path, handle):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path + ".tmp")
    srv.listen(512)
    os.rename(path + ".tmp", path)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def recv_msg(s):
    buf = b""
    while len(buf) < 4:
        d = s.recv(4 - len(buf))
        if not d:
            return None
        buf += d
    n = int.from_bytes(buf, "big")
    while len(buf) < 4 + n:
        d = s.recv(4 + n - len(buf))
        if not d:
            return None
        buf += d
    return buf


def hung(conn):
    held.append(conn)          # never answered, never closed


def slow(conn):
    with conn, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as up:
        up.connect(sys.argv[3])
        while True:
            req = recv_msg(conn)
            if req is None:
                return
            up.sendall(req)
            ans = recv_msg(up)
            time.sleep(float(sys.argv[4]))
            conn.sendall(ans)


held = []
serve(sys.argv[2], hung if sys.argv[1] == "hung" else slow)
