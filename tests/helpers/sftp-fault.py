#!/usr/bin/env python3
"""An SFTP subsystem that answers some requests with a chosen status.

    Subsystem sftp /usr/bin/python3 sftp-fault.py RULES SERVER [ARGS...]

Runs the real SFTP server (OpenSSH's sftp-server) and relays between it
and sshd. Each request from the client is parsed; when RULES (a file,
read again for every request, so that a test can change it between runs)
has a line "OP CODE" for it, the request is not passed on and the client
gets SSH_FXP_STATUS CODE instead. OP is a request name (open, close,
read, write, lstat, fstat, setstat, fsetstat, opendir, readdir, remove,
mkdir, stat, rename, readlink, symlink) or an extension name
(fsync@openssh.com, ...). The close of a handle that opendir gave is
named closedir, so that a rule can fail it alone (and "close" then
fails only the closes of files). A missing RULES file: everything
passes.
When RULES.log exists, each request's name and path (if it has one) is
appended to it, one line each.
Statuses that OpenSSH's server never sends on those paths, so that the
client's handling of them can be tested behind a real sshd.
"""

import os
import select
import struct
import subprocess
import sys

NAMES = {
    3: "open", 4: "close", 5: "read", 6: "write", 7: "lstat", 8: "fstat",
    9: "setstat", 10: "fsetstat", 11: "opendir", 12: "readdir",
    13: "remove", 14: "mkdir", 15: "rmdir", 16: "realpath", 17: "stat",
    18: "rename", 19: "readlink", 20: "symlink",
}
SSH_FXP_EXTENDED = 200
SSH_FXP_STATUS = 101
SSH_FXP_HANDLE = 102


def rules(path):
    r = {}
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) == 2:
                    r[w[0]] = int(w[1])
    except OSError:
        pass
    return r


def op_name(pkt, dir_handles):
    """The request's name, and its id (None for INIT)."""
    t = pkt[0]
    if t == 1:
        return "init", None
    rid = struct.unpack(">I", pkt[1:5])[0]
    if t == SSH_FXP_EXTENDED:
        n = struct.unpack(">I", pkt[5:9])[0]
        return pkt[9:9 + n].decode("latin-1"), rid
    if t == 4:
        n = struct.unpack(">I", pkt[5:9])[0]
        if pkt[9:9 + n] in dir_handles:
            dir_handles.discard(pkt[9:9 + n])
            return "closedir", rid
    return NAMES.get(t, str(t)), rid


def packets(buf):
    """The whole packets at the head of buf, and what is left."""
    out = []
    while len(buf) >= 4:
        n = struct.unpack(">I", buf[:4])[0]
        if len(buf) < 4 + n:
            break
        out.append(buf[4:4 + n])
        buf = buf[4 + n:]
    return out, buf


def log(path, name, pkt):
    if not os.path.exists(path):
        return
    arg = ""
    if pkt[0] in (3, 7, 9, 11, 13, 14, 15, 16, 17, 18, 19, 20):
        n = struct.unpack(">I", pkt[5:9])[0]
        arg = " " + pkt[9:9 + n].decode("latin-1")
    with open(path, "a") as f:
        f.write(name + arg + "\n")


def status(rid, code):
    msg = b"injected by sftp-fault.py"
    body = struct.pack(">BII", SSH_FXP_STATUS, rid, code)
    body += struct.pack(">I", len(msg)) + msg + struct.pack(">I", 0)
    return struct.pack(">I", len(body)) + body


def write_all(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def main():
    rules_file = sys.argv[1]
    srv = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    to_srv, from_srv = srv.stdin.fileno(), srv.stdout.fileno()
    inbuf = b""
    srvbuf = b""
    opendirs = set()	# ids of opendir requests passed on
    dir_handles = set()	# the handles they gave
    cli_open = True
    while True:
        watch = [from_srv] + ([0] if cli_open else [])
        ready, _, _ = select.select(watch, [], [])
        if from_srv in ready:
            data = os.read(from_srv, 65536)
            if not data:
                break
            srvbuf += data
            pkts, srvbuf = packets(srvbuf)
            for pkt in pkts:
                rid = struct.unpack(">I", pkt[1:5])[0]
                if rid in opendirs:
                    opendirs.discard(rid)
                    if pkt[0] == SSH_FXP_HANDLE:
                        n = struct.unpack(">I", pkt[5:9])[0]
                        dir_handles.add(pkt[9:9 + n])
            write_all(1, data)
        if 0 in ready:
            data = os.read(0, 65536)
            if not data:
                cli_open = False
                srv.stdin.close()
                continue
            inbuf += data
            out = b""
            pkts, inbuf = packets(inbuf)
            for pkt in pkts:
                name, rid = op_name(pkt, dir_handles)
                log(rules_file + ".log", name, pkt)
                code = rules(rules_file).get(name)
                if code is not None and rid is not None:
                    write_all(1, status(rid, code))
                else:
                    if name == "opendir":
                        opendirs.add(rid)
                    out += struct.pack(">I", len(pkt)) + pkt
            if out:
                write_all(to_srv, out)
    srv.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
