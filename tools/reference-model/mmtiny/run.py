"""What every recipe entry point does first: deterministic torch, a work folder, and a timed log to stdout and a file."""
from __future__ import annotations

import os
import time

import torch


def start(work: str, threads: int):
    """Returns (log, t0): log(msg) prints and appends "[seconds since t0] msg" to work/log.txt."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    os.makedirs(work, exist_ok=True)
    logf = open(os.path.join(work, "log.txt"), "a")
    t0 = time.time()

    def log(msg):
        line = f"[{time.time() - t0:7.1f}s] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    return log, t0
