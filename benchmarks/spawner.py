"""A small process that starts the measured ones and reports their peak memory.

Linux carries a process's peak RSS across fork and exec: a child started by the benchmark
runner (which holds the served files and pandas) would inherit the runner's peak. Started
first, while it is small (~10 MB), this spawner gives each child an honest ru_maxrss.

wait4's ru_maxrss is the peak of the largest single process (the child, or one of its own
children once reaped): `vigie run` reads the inbox in worker processes that live at the same
time as it, and their sum is what the machine must hold. While a child runs, a thread samples
the whole tree under it (/proc, every 20 ms) and keeps the largest sum of RSS seen — an upper
bound (pages shared between processes count once per process), reported beside ru_maxrss.

Reads one JSON request per line on stdin ({"argv", "env", "cwd", "stdout", "stderr"}) and
answers one JSON line: {"returncode", "seconds", "rss_mb", "tree_rss_mb", "tree_processes"}.
Standard library only.
"""

import json
import os
import subprocess
import sys
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")
INTERVAL = 0.02


def _children(pid: int) -> list[int]:
    """Direct children, from /proc/PID/task/*/children (every thread can have forked)."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    found += [int(c) for c in f.read().split()]
            except OSError:
                continue
    except OSError:
        pass
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> tuple[int, int]:
    """Sum of RSS over root and all its descendants, and how many processes that is."""
    total, count, todo, seen = 0, 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss(pid)
        count += 1
        todo += _children(pid)
    return total, count


class TreeSampler(threading.Thread):
    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peak, self.processes, self.done = root, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total, count = tree_rss(self.root)
            self.peak = max(self.peak, total)
            self.processes = max(self.processes, count)
            self.done.wait(INTERVAL)


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        with open(request["stdout"], "wb") as out, open(request["stderr"], "wb") as err:
            start = time.perf_counter()
            process = subprocess.Popen(request["argv"], stdout=out, stderr=err, env=request["env"],
                                       cwd=request["cwd"])
            sampler = TreeSampler(process.pid)
            sampler.start()
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - start
            sampler.done.set()
            sampler.join()
        own = usage.ru_maxrss / 1024  # the largest single process
        answer = {"returncode": os.waitstatus_to_exitcode(status), "seconds": seconds, "rss_mb": own,
                  # never below the child's own peak (a sample can miss a short spike)
                  "tree_rss_mb": max(own, sampler.peak / 1024 / 1024), "tree_processes": sampler.processes}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
