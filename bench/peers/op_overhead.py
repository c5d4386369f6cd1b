"""Peer of bench/op-overhead.ts: `torch.add(a, b)` on two 1-element float32 tensors, in a plain
Python loop, calls per second."""
import time

import torch

from _protocol import serve, setup_threads

a = b = None


def setup(threads):
    global a, b
    info = setup_threads(threads)
    a = torch.ones(1, dtype=torch.float32)
    b = torch.ones(1, dtype=torch.float32)
    return info


def rep(calls):
    t0 = time.perf_counter()
    for _ in range(calls):
        torch.add(a, b)
    seconds = time.perf_counter() - t0
    return {"rate": calls / seconds}


serve({"setup": setup, "rep": rep})
