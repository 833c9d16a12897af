"""`python tests/peak.py REPORT ARGV...`: run ARGV with this process's stdout/stderr, write
its peak RSS in MB to REPORT, exit with its code. Standard library only.

Linux carries a process's peak RSS across fork and exec, so a command started straight
from pytest (hundreds of MB, the demo warehouse in memory) would inherit pytest's peak.
Started small, this process gives the command an honest ru_maxrss: that of the command and
of the processes it waited for (its workers), nothing earlier (as benchmarks/spawner.py).
"""

import os
import subprocess
import sys


def main() -> int:
    report, argv = sys.argv[1], sys.argv[2:]
    process = subprocess.Popen(argv)
    _, status, usage = os.wait4(process.pid, 0)
    with open(report, "w", encoding="utf-8") as fh:
        fh.write(f"{usage.ru_maxrss / 1024:.1f}\n")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
