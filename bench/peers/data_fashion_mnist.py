"""Peer of bench/data-fashion-mnist.ts: Fashion-MNIST from its IDX files into normalized batches with
torch's DataLoader over a TensorDataset (batch 128, shuffle, num_workers=0), normalizing each batch
as the Tessera side does: x.float() / 255, then (x - mean) / std.

Commands:
  init  {threads, dir, batch, mean, std}  read the IDX files (gzip) into uint8 / int64 tensors
  check {}     first batch of an unshuffled epoch: sums of x and y (the numerics check)
  rep   {}     one shuffled epoch, timed; returns images per second
"""
import gzip
import os
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from _protocol import serve, setup_threads

state = {}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def init(threads, dir, batch, mean, std):
    info = setup_threads(threads)
    t0 = time.perf_counter()
    images = torch.from_numpy(read_idx(os.path.join(dir, "train-images-idx3-ubyte.gz")).copy()).unsqueeze(1)
    labels = torch.from_numpy(read_idx(os.path.join(dir, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    state.update(dataset=TensorDataset(images, labels), batch=batch, mean=mean, std=std)
    info["load_s"] = time.perf_counter() - t0
    return info


def normalized(x):
    return x.float().div(255).sub(state["mean"]).div(state["std"])


def check():
    loader = DataLoader(state["dataset"], batch_size=state["batch"], shuffle=False, num_workers=0)
    x, y = next(iter(loader))
    x = normalized(x)
    return {"shape": list(x.shape), "x_sum": float(x.double().sum()), "y_sum": int(y.sum())}


def rep():
    loader = DataLoader(state["dataset"], batch_size=state["batch"], shuffle=True, num_workers=0)
    n = 0
    t0 = time.perf_counter()
    for x, y in loader:
        x = normalized(x)
        n += x.shape[0]
    return {"rate": n / (time.perf_counter() - t0)}


serve({"init": init, "check": check, "rep": rep})
