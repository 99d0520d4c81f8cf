#!/usr/bin/env python3
"""An ssh-agent socket that misbehaves, for mrsh tests.

  fake-agent.py hung SOCK          accept every connection, never answer
  fake-agent.py slow SOCK AGENT S  forward each request to the real agent
                                   at AGENT, holding its answer S seconds
  fake-agent.py failure SOCK       answer SSH_AGENT_FAILURE to everything
  fake-agent.py close SOCK         read a request, close without answering
  fake-agent.py garbage SOCK KIND  answer every request with a malformed
                                   message: KIND type (an unknown message
                                   type), count (more keys than bytes),
                                   string (a key string past the end),
                                   zero (a zero length), huge (a length
                                   over 256 KiB), short (cut mid-answer)
  fake-agent.py badblob SOCK AGENT  list a key whose blob is malformed
                                   (an empty type), then AGENT's keys
  fake-agent.py split SOCK AGENT   forward to AGENT, each answer written in
                                   three pieces (2 bytes, 3 bytes, the rest)
  fake-agent.py signfail SOCK AGENT  forward key lists to AGENT, answer
                                   SSH_AGENT_FAILURE to sign requests
  fake-agent.py signhang SOCK AGENT  forward key lists to AGENT, never
                                   answer sign requests
  fake-agent.py badsig SOCK AGENT  forward key lists to AGENT, answer sign
                                   requests with a signature blob that is
                                   no (type, signature) pair
  fake-agent.py sigcut SOCK AGENT  the same, the signature string's length
                                   running past the answer's end

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


def msg(body):
    return len(body).to_bytes(4, "big") + body


def sshstr(b):
    return len(b).to_bytes(4, "big") + b


def failure(conn):
    with conn:
        while recv_msg(conn) is not None:
            conn.sendall(msg(b"\x05"))


def close(conn):
    with conn:
        recv_msg(conn)


GARBAGE = {
    "type": msg(b"\x63"),
    "count": msg(b"\x0c" + (1000000).to_bytes(4, "big")),
    "string": msg(b"\x0c" + (1).to_bytes(4, "big") + (500).to_bytes(4, "big")
                  + b"xx"),
    "zero": (0).to_bytes(4, "big"),
    "huge": (0x01000000).to_bytes(4, "big") + b"\x0c",
    "short": (100).to_bytes(4, "big") + b"\x0c\x00",
}


def garbage(conn):
    with conn:
        if recv_msg(conn) is not None:
            conn.sendall(GARBAGE[sys.argv[3]])


def forward(conn, answer):
    """Key lists from the real agent; sign requests (13) to answer()."""
    with conn, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as up:
        up.connect(sys.argv[3])
        while True:
            req = recv_msg(conn)
            if req is None:
                return
            if req[4] == 13 and answer == "hang":
                threading.Event().wait()    # never answered, never closed
            if req[4] == 13 and isinstance(answer, bytes):
                conn.sendall(answer)
                continue
            up.sendall(req)
            ans = recv_msg(up)
            if answer == "badblob" and ans[4] == 12:
                n = int.from_bytes(ans[5:9], "big") + 1
                ans = msg(b"\x0c" + n.to_bytes(4, "big") + sshstr(b"\0" * 4)
                          + sshstr(b"broken") + ans[9:])
                conn.sendall(ans)
            elif answer is None:    # split
                conn.sendall(ans[:2])
                time.sleep(0.05)
                conn.sendall(ans[2:5])
                time.sleep(0.05)
                conn.sendall(ans[5:])
            else:
                conn.sendall(ans)


MODES = {
    "hung": lambda c: held.append(c),       # never answered, never closed
    "slow": slow,
    "failure": failure,
    "close": close,
    "garbage": garbage,
    "split": lambda c: forward(c, None),
    "badblob": lambda c: forward(c, "badblob"),
    "signfail": lambda c: forward(c, msg(b"\x05")),
    "signhang": lambda c: forward(c, "hang"),
    "sigcut": lambda c: forward(c, msg(b"\x0e" + (100).to_bytes(4, "big")
                                       + b"short")),
    "badsig": lambda c: forward(c, msg(b"\x0e" + sshstr(b"\x00\x00\x00\x07"
                                                       b"ssh-ed2"))),
}

held = []
serve(sys.argv[2], MODES[sys.argv[1]])
