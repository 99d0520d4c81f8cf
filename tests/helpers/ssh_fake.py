#!/usr/bin/env python3
"""An SSH server that misbehaves at the SSH level, for mrsh's hostile-server
tests (built on paramiko: Debian's python3-paramiko).

    ssh_fake.py MODE PORTFILE [ARG]

Listens on 127.0.0.1 port 0 with a fresh ECDSA host key, writes the port to
PORTFILE and the host key ("ecdsa-sha2-nistp256 AAAA...") to PORTFILE.pub
(each written under a temp name, then renamed), then serves every
connection in a thread until killed. Any public key is accepted; the exec
request is accepted whatever the command. Then, by MODE:

    exit-status N   "out" on stdout, exit-status N (any uint32), EOF, close
    ext-data        extended data of type 2 (not stderr), then "visible" on
                    stdout, exit-status 0, EOF, close
    exit-signal S   "out" on stdout, exit-signal S (the name as given, may
                    hold escape sequences), EOF, close
    auth-methods L  every authentication refused; the methods that "can
                    continue" are the list L (may hold escape sequences)
    auth-none       "none" authentication accepted (no key needed), then
                    "out" on stdout, exit-status 0, EOF, close
    exec-refused    the exec request is refused (want_reply answered
                    with CHANNEL_FAILURE)
    eof-drop [S]    "out" on stdout, exit-status 0 (exit-signal S if
                    given), EOF; once the client's EOF came, the TCP
                    connection dropped without CHANNEL_CLOSE

ARG may use Python escapes (\\x1b); "REPEAT:N:TEXT" is TEXT N times.
"""

import codecs
import os
import socket
import struct
import sys
import threading
import time

import paramiko


def arg_value(raw):
    if raw.startswith("REPEAT:"):
        _, n, text = raw.split(":", 2)
        return codecs.decode(text, "unicode_escape") * int(n)
    return codecs.decode(raw, "unicode_escape")


class Server(paramiko.ServerInterface):
    def __init__(self, mode, arg):
        self.mode = mode
        self.arg = arg
        self.exec_event = threading.Event()

    def get_allowed_auths(self, username):
        if self.mode == "auth-methods":
            return self.arg
        return "publickey"

    def check_auth_publickey(self, username, key):
        if self.mode == "auth-methods":
            return paramiko.AUTH_FAILED
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_none(self, username):
        if self.mode == "auth-none":
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        self.exec_event.set()
        return self.mode != "exec-refused"


def send_request(chan, name, payload):
    """A channel request (want_reply false) with a raw payload."""
    m = paramiko.Message()
    m.add_byte(paramiko.common.cMSG_CHANNEL_REQUEST)
    m.add_int(chan.remote_chanid)
    m.add_string(name)
    m.add_boolean(False)
    m.add_bytes(payload)
    chan.transport._send_user_message(m)


def exit_signal(name):
    """An exit-signal request's payload: NAME, no core, no message."""
    m = paramiko.Message()
    m.add_string(name.encode("latin-1"))
    m.add_boolean(False)
    m.add_string("")
    m.add_string("")
    return m.asbytes()


def send_extended(chan, code, data):
    m = paramiko.Message()
    m.add_byte(paramiko.common.cMSG_CHANNEL_EXTENDED_DATA)
    m.add_int(chan.remote_chanid)
    m.add_int(code)
    m.add_string(data)
    chan.transport._send_user_message(m)


def serve(conn, hostkey, mode, arg):
    t = paramiko.Transport(conn)
    t.add_server_key(hostkey)
    server = Server(mode, arg)
    try:
        t.start_server(server=server)
        chan = t.accept(30)
        if chan is None:
            return
        if not server.exec_event.wait(30):
            return
        if mode == "exit-status":
            chan.sendall(b"out\n")
            send_request(chan, "exit-status",
                         struct.pack(">I", int(arg, 0) & 0xffffffff))
        elif mode == "ext-data":
            send_extended(chan, 2, b"hidden data of type 2\n")
            chan.sendall(b"visible\n")
            send_request(chan, "exit-status", struct.pack(">I", 0))
        elif mode == "exit-signal":
            chan.sendall(b"out\n")
            send_request(chan, "exit-signal", exit_signal(arg))
        elif mode == "auth-none":
            chan.sendall(b"out\n")
            send_request(chan, "exit-status", struct.pack(">I", 0))
        elif mode == "exec-refused":
            t.join(30)          # the client gives up and disconnects
            return
        elif mode == "eof-drop":
            chan.sendall(b"out\n")
            if arg:
                send_request(chan, "exit-signal", exit_signal(arg))
            else:
                send_request(chan, "exit-status", struct.pack(">I", 0))
            chan.shutdown_write()   # sent when it returns
            # the client's own EOF first (else its send may hit the
            # reset), then the drop: no CHANNEL_CLOSE
            deadline = time.monotonic() + 20
            while not chan.eof_received and time.monotonic() < deadline:
                time.sleep(0.01)
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            return
        chan.shutdown_write()
        chan.close()
        t.join(10)
    except Exception as e:  # a test peer: log and go on
        sys.stderr.write("ssh_fake: %r\n" % (e,))
    finally:
        t.close()


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    mode, portfile = sys.argv[1], sys.argv[2]
    arg = arg_value(sys.argv[3]) if len(sys.argv) > 3 else ""
    hostkey = paramiko.ECDSAKey.generate(bits=256)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    for path, text in ((portfile + ".pub", "%s %s\n" % (
            hostkey.get_name(), hostkey.get_base64())),
            (portfile, "%d\n" % srv.getsockname()[1])):
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, hostkey, mode, arg),
                         daemon=True).start()


if __name__ == "__main__":
    main()
