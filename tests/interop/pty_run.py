#!/usr/bin/env python3
"""Run a command on a fresh pseudo-terminal of a given size, as an interactive user would.

Usage: pty_run.py [--rows N] [--cols N] [--timeout S] [--expect REGEX --send TEXT]... -- CMD...

The command gets a new session whose controlling terminal is the pty's slave side, sized
ROWS x COLS before the command starts. Everything it writes to the terminal is copied to our
stdout. Each --expect/--send pair waits until the output seen so far matches REGEX, then
types TEXT (backslash escapes such as \\n are honoured). Exits with the command's exit code,
128+signal when it was killed by a signal, or 124 after --timeout seconds (the command is
then sent SIGKILL).
"""
import argparse
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--send", action="append", default=[])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command given")
    if len(args.expect) != len(args.send):
        ap.error("--expect and --send come in pairs")
    steps = [(re.compile(e), s.encode().decode("unicode_escape").encode())
             for e, s in zip(args.expect, args.send)]

    master, slave = os.openpty()
    # Size the terminal before the child exists, so its first TIOCGWINSZ sees it.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", args.rows, args.cols, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            os.write(2, f"pty_run: exec {cmd[0]}: {e.strerror}\n".encode())
        os._exit(127)
    os.close(slave)

    seen = b""
    deadline = time.monotonic() + args.timeout
    status = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0 and status is not None:
            break
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.buffer.write(b"\npty_run: timed out\n")
            return 124
        r, _, _ = select.select([master], [], [], min(left, 0.2))
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every slave fd is closed
                data = b""
            if not data:
                break
            seen += data
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            while steps and steps[0][0].search(seen.decode(errors="replace")):
                os.write(master, steps.pop(0)[1])
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                # Drain what is still buffered, then stop.
                deadline = min(deadline, time.monotonic() + 1.0)
    if status is None:
        _, status = os.waitpid(pid, 0)
    os.close(master)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
