"""Peer of bench/data-packed.ts: the same packed 32x32 RGB samples (the shard file, opened as a
numpy memmap of shape N x 32 x 32 x 3), RandomCrop(32, padding=4) + RandomHorizontalFlip, float
batches of 256 in [0, 1].

mode 'dataloader' (the peer of record): the idiomatic PyTorch path: a map-style Dataset over the
memmap, torchvision transforms on uint8 CHW tensors per sample, DataLoader(batch_size=256,
shuffle=True, num_workers=0, drop_last=True), then x.float().div(255).
mode 'batched' (information): the same batched tensor ops Tessera uses, written in PyTorch: numpy
fancy indexing of 256 shuffled rows, pad, one index_select whose index applies every crop and flip."""
import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

from _protocol import serve, setup_threads

S, P = 32, 4
state = {}


class Packed(Dataset):
    def __init__(self, images, labels, tf):
        self.images, self.labels, self.tf = images, labels, tf

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = torch.from_numpy(np.array(self.images[i])).permute(2, 0, 1)  # (3, 32, 32) uint8
        return self.tf(img), int(self.labels[i])


def setup(threads, shard, index, n, batch):
    info = setup_threads(threads)
    torch.manual_seed(0)
    images = np.memmap(shard, dtype=np.uint8, mode="r", shape=(n, S, S, 3))
    with open(index) as f:
        labels = np.asarray(json.load(f)["samples"]["label"], dtype=np.int64)
    tf = T.Compose([T.RandomCrop(S, padding=P), T.RandomHorizontalFlip()])
    loader = DataLoader(Packed(images, labels, tf), batch_size=batch, shuffle=True, num_workers=0, drop_last=True)
    state.update(images=images, labels=torch.from_numpy(labels), loader=loader, it=iter(loader), batch=batch, perm=None, at=n)
    return info


def next_dataloader():
    try:
        x, y = next(state["it"])
    except StopIteration:
        state["it"] = iter(state["loader"])
        x, y = next(state["it"])
    return x.float().div(255), y


def next_batched():
    n, b = len(state["images"]), state["batch"]
    if state["at"] + b > n:
        state["perm"], state["at"] = torch.randperm(n).numpy(), 0
    idx = state["perm"][state["at"]:state["at"] + b]
    state["at"] += b
    x = torch.from_numpy(state["images"][idx])  # (N, 32, 32, 3) uint8, a copy
    y = state["labels"][idx]
    w = S + 2 * P
    padded = F.pad(x, (0, 0, P, P, P, P))  # (N, 40, 40, 3)
    top, left = torch.randint(0, 2 * P + 1, (b,)), torch.randint(0, 2 * P + 1, (b,))
    flip = torch.randint(0, 2, (b,)).bool()
    xs = torch.arange(S)
    rows = top[:, None] + xs  # (N, 32)
    cols = torch.where(flip[:, None], S - 1 - xs, xs) + left[:, None]  # (N, 32)
    idx = ((torch.arange(b)[:, None, None] * w + rows[:, :, None]) * w + cols[:, None, :]).view(-1)
    out = padded.view(b * w * w, 3).index_select(0, idx).view(b, S, S, 3)
    return out.permute(0, 3, 1, 2).contiguous().float().div_(255), y


def rep(batches, mode):
    step = next_dataloader if mode == "dataloader" else next_batched
    t0 = time.perf_counter()
    for _ in range(batches):
        x, y = step()
    assert x.shape == (state["batch"], 3, S, S) and x.dtype == torch.float32
    return {"rate": batches * state["batch"] / (time.perf_counter() - t0)}


serve({"setup": setup, "rep": rep})
