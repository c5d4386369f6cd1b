"""Peer of bench/dist-data-parallel.ts: PyTorch's DistributedDataParallel over Gloo, training the
seeds' CNN on random 32x32x3 batches with SGD (momentum 0.9), one thread per rank, per-rank batch
--batch, --warmup then --steps timed steps. Prints one JSON line: images/s over all ranks and the
median step time of rank 0.

    dist_ddp.py NPROC STEPS WARMUP BATCH PORT
"""
import json
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn


def run(rank, world, steps, warmup, batch, port, results):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 6 * 6, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    torch.manual_seed(1 + rank)
    batches = [(torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))) for _ in range(4)]
    step_ms = []

    def step(i):
        start = time.perf_counter()
        x, y = batches[i % len(batches)]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(ddp(x), y).backward()
        opt.step()
        step_ms.append(1000 * (time.perf_counter() - start))

    for i in range(warmup):
        step(i)
    step_ms.clear()
    dist.barrier()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        results.put({"ranks": world, "imagesPerSec": world * batch * steps / seconds, "stepMs": statistics.median(step_ms)})
    dist.destroy_process_group()


if __name__ == "__main__":
    nproc, steps, warmup, batch, port = (int(a) for a in sys.argv[1:6])
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    mp.spawn(run, args=(nproc, steps, warmup, batch, port, results), nprocs=nproc)
    print(json.dumps(results.get()))
