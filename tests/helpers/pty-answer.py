#!/usr/bin/env python3
"""Run a command on a new pseudo-terminal and answer its prompts.

For tests of things that read /dev/tty (a key passphrase): the command gets
the pty as its controlling terminal (stdin and stderr too; stdout as well
unless --stdout FILE). Every time the text seen since the last answer
matches --prompt (a Python regex), --answer and a newline are typed.

    pty-answer.py --prompt '[Pp]assphrase' --answer secret \
        --stdout out.txt --transcript tty.txt --count n.txt -- mrsh ...

With --touch FILE, a match creates FILE (and types --answer only if it
was given): a test can wait for something drawn on the terminal.

Writes the number of prompts answered to --count, everything the command
wrote on the terminal to --transcript, and exits with the command's exit
status (128+N if it was killed by signal N; 124 after --timeout seconds,
when the command is killed).
"""

import argparse
import os
import pty
import re
import select
import signal
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--answer")
    ap.add_argument("--touch")
    ap.add_argument("--stdout")
    ap.add_argument("--transcript")
    ap.add_argument("--count")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("cmd", nargs="+")
    args = ap.parse_args()

    prompt = re.compile(args.prompt)
    pid, fd = pty.fork()
    if pid == 0:
        if args.stdout:
            out = os.open(args.stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                          0o644)
            os.dup2(out, 1)
            os.close(out)
        try:
            os.execvp(args.cmd[0], args.cmd)
        finally:
            os._exit(127)

    transcript = b""
    pending = ""
    answered = 0
    status = None
    deadline = time.monotonic() + args.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = 124
            break
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            if not data:
                break
            transcript += data
            pending += data.decode("utf-8", "replace")
            if prompt.search(pending):
                if args.touch:
                    with open(args.touch, "w"):
                        pass
                if args.answer is not None:
                    os.write(fd, args.answer.encode() + b"\n")
                answered += 1
                pending = ""
    if status is None:
        _, st = os.waitpid(pid, 0)
        if os.WIFSIGNALED(st):
            status = 128 + os.WTERMSIG(st)
        else:
            status = os.WEXITSTATUS(st)
    if args.transcript:
        with open(args.transcript, "wb") as f:
            f.write(transcript)
    if args.count:
        with open(args.count, "w") as f:
            f.write("%d\n" % answered)
    sys.exit(status)


if __name__ == "__main__":
    main()
