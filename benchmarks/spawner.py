"""A small process that starts the measured ones and reports their peak memory.

Linux carries a process's peak RSS across fork and exec: a child started by the benchmark
runner (which holds the served files and pandas) would inherit the runner's peak. Started
first, while it is small (~10 MB), this spawner gives each child an honest ru_maxrss.

Reads one JSON request per line on stdin ({"argv", "env", "cwd", "stdout", "stderr"}) and
answers one JSON line: {"returncode", "seconds", "rss_mb"}. Standard library only.
"""

import json
import os
import subprocess
import sys
import time


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        with open(request["stdout"], "wb") as out, open(request["stderr"], "wb") as err:
            start = time.perf_counter()
            process = subprocess.Popen(request["argv"], stdout=out, stderr=err, env=request["env"],
                                       cwd=request["cwd"])
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        answer = {"returncode": process.returncode, "seconds": seconds, "rss_mb": usage.ru_maxrss / 1024}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
