#!/usr/bin/env python3
"""Run one command and measure its whole process tree.

    measure.py [--sample-ms 50] [--cgroup] -- CMD ARG...

Prints one line of key=value pairs on stdout (the command's own output
goes wherever its stdout/stderr were redirected by the caller: use
--stdout/--stderr to send them to files):

    exit=N wall_s=F cpu_s=F user_s=F sys_s=F maxrss_kb=N
    peak_rss_sum_kb=N peak_pss_sum_kb=N peak_procs=N cg_peak_kb=N|-
    rchar_b=N read_b=N

How:
  * wall_s: monotonic clock from start to the end of the last process.
  * cpu_s (user_s + sys_s): getrusage(RUSAGE_CHILDREN) after every process
    of the tree was reaped. This wrapper is a child subreaper
    (PR_SET_CHILD_SUBREAPER), so processes orphaned by the tool (e.g. ssh
    children of a tool that did not wait for them) are reparented to it and
    counted too.
  * maxrss_kb: the largest RSS of any single process of the tree (for a
    one-process tool such as mrsh: the tool itself).
  * peak_rss_sum_kb / peak_pss_sum_kb: the tree sampled every --sample-ms
    ms (0: no sampling, both 0, nothing competes with the tool for CPU); at each sample RSS and PSS (proportional set size, from
    /proc/PID/smaps_rollup: shared library pages divided among the
    processes sharing them) are summed over the tree; the peak of each sum.
    PSS is the fair measure for "N ssh processes at once". Sampling can
    miss short peaks; the sampler's own CPU is not counted.
  * rchar_b / read_b: the client tree's I/O accounting (/proc/PID/io of
    this wrapper after it reaped every process of the tree: the kernel adds
    a reaped child's counters to its parent's). rchar_b counts every byte
    read() returned (files, pipes, sockets); read_b the bytes fetched from
    storage (0 for what the page cache held). What this wrapper itself read
    from /proc while sampling is subtracted.
  * cg_peak_kb (with --cgroup, when /sys/fs/cgroup is writable): the tool
    runs in a fresh memory cgroup; its peak charge (memory.peak on cgroup
    v2, memory.max_usage_in_bytes on v1): user memory plus kernel memory
    charged to it (page cache it brought in, socket buffers on v2).
"""

import argparse
import ctypes
import errno
import os
import resource
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
# bytes this wrapper read from /proc while the tool ran (subtracted from rchar)
own_read = 0


def read_proc(path):
    """The text of a /proc (or cgroup) file; counts the bytes read."""
    global own_read
    with open(path, "rb") as f:
        data = f.read()
    own_read += len(data)
    return data.decode("utf-8", "replace")


def self_io():
    """(rchar, read_bytes) of this process and its reaped children."""
    io = {}
    try:
        with open("/proc/self/io") as f:
            for line in f:
                k, v = line.split(":")
                io[k] = int(v)
    except (OSError, ValueError):
        pass
    return io.get("rchar", 0), io.get("read_bytes", 0)


def set_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except OSError:
        pass


def own_cgroup_path(controller):
    """This process's cgroup path for controller ('' = v2)."""
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                hid, ctrls, path = line.rstrip("\n").split(":", 2)
                if controller == "" and hid == "0":
                    return path
                if controller and controller in ctrls.split(","):
                    return path
    except OSError:
        pass
    return None


def make_cgroup():
    """Create a memory cgroup; return (dir, peak_file) or (None, None)."""
    name = "mrsh-bench-%d" % os.getpid()
    # cgroup v2
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        base = "/sys/fs/cgroup" + (own_cgroup_path("") or "/")
        d = os.path.join(base, name)
        try:
            os.mkdir(d)
            if os.path.exists(os.path.join(d, "memory.peak")):
                return d, os.path.join(d, "memory.peak")
            os.rmdir(d)
        except OSError:
            pass
    # cgroup v1 memory controller
    root = "/sys/fs/cgroup/memory"
    if os.path.isdir(root):
        rel = own_cgroup_path("memory") or "/"
        d = os.path.join(root + rel, name)
        try:
            os.mkdir(d)
            return d, os.path.join(d, "memory.max_usage_in_bytes")
        except OSError:
            pass
    return None, None


def children_map():
    """ppid -> [pid] for every process (one pass over /proc)."""
    kids = {}
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            s = read_proc("/proc/%s/stat" % e)
        except OSError:
            continue
        # the command name may contain spaces: fields after the last ')'
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(e))
    return kids


def tree_pids(root, cgdir):
    if cgdir:
        try:
            return [int(x) for x in
                    read_proc(os.path.join(cgdir, "cgroup.procs")).split()]
        except OSError:
            pass
    kids = children_map()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def mem_of(pid):
    """(rss_kb, pss_kb) of one process, zeros if it is gone."""
    rss = pss = 0
    try:
        for line in read_proc("/proc/%d/smaps_rollup" % pid).splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample-ms", type=float, default=50.0)
    ap.add_argument("--cgroup", action="store_true")
    ap.add_argument("--stdout", default="/dev/null")
    ap.add_argument("--stderr", default="/dev/null")
    ap.add_argument("cmd", nargs="+")
    args = ap.parse_args()

    set_subreaper()
    cgdir, cgpeak = make_cgroup() if args.cgroup else (None, None)

    io0 = self_io()
    # children reaped before us (a launcher that exec'd us) are not the tool's
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            if cgdir:
                with open(os.path.join(cgdir, "cgroup.procs"), "w") as f:
                    f.write("%d\n" % os.getpid())
            out = os.open(args.stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                          0o644)
            err = os.open(args.stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                          0o644)
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.execvp(args.cmd[0], args.cmd)
        finally:
            os._exit(127)

    peak_rss = peak_pss = peak_procs = 0
    status = None
    interval = args.sample_ms / 1000.0
    # --sample-ms 0: no sampling at all (timing runs): just reap.
    flags = os.WNOHANG if interval > 0 else 0
    while True:
        # reap whatever ended: the tool, or orphans reparented to us
        while True:
            try:
                p, st = os.waitpid(-1, flags)
            except ChildProcessError:
                p, st = -1, 0
            if p <= 0:
                break
            if p == pid:
                status = st
        if p == -1:  # ECHILD: the whole tree is gone
            break
        pids = tree_pids(pid if status is None else os.getpid(), cgdir)
        if status is None and pid not in pids:
            pids.append(pid)
        rs = ps = 0
        for q in pids:
            r, s = mem_of(q)
            rs += r
            ps += s
        peak_rss = max(peak_rss, rs)
        peak_pss = max(peak_pss, ps)
        peak_procs = max(peak_procs, len(pids))
        time.sleep(interval)
    wall = time.monotonic() - t0

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    io1 = self_io()
    cg = "-"
    if cgdir:
        try:
            with open(cgpeak) as f:
                cg = str(int(f.read().strip()) // 1024)
        except (OSError, ValueError):
            pass
        try:
            os.rmdir(cgdir)
        except OSError:
            pass
    if status is None:
        code = -1
    elif os.WIFSIGNALED(status):
        code = 128 + os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
    print("exit=%d wall_s=%.3f cpu_s=%.3f user_s=%.3f sys_s=%.3f "
          "maxrss_kb=%d peak_rss_sum_kb=%d peak_pss_sum_kb=%d peak_procs=%d "
          "cg_peak_kb=%s rchar_b=%d read_b=%d" % (
              code, wall, ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime,
              ru.ru_utime - ru0.ru_utime, ru.ru_stime - ru0.ru_stime,
              ru.ru_maxrss, peak_rss, peak_pss, peak_procs, cg,
              io1[0] - io0[0] - own_read, io1[1] - io0[1]))


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    main()
