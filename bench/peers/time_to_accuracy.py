"""Peer of bench/time-to-accuracy.ts: the seeds' CNN (seed 001's create_cnn) on Fashion-MNIST with
torch.optim.Adam, trained epoch by epoch with a test-accuracy pass after each, the way a PyTorch
user writes it: a DataLoader over a TensorDataset (uint8 images, x.float() / 255 per batch),
zero_grad / forward / cross_entropy / backward / step, the epoch's train loss and accuracy kept on
the side (as Tessera's Trainer does with its metrics), then model.eval() + no_grad over the test set.

Commands:
  init {threads, data, dir, params, epochs, batch, eval_batch, lr, samples}  read the IDX files
       (the first `samples` training images); build the model; read Tessera's initial weights (dir/<file>, float32) and each epoch's sample order
       (dir/orders.i32) so both sides do the same arithmetic.
  run  {stop_at}   one training run from the initial weights, timed from its first batch; stops
       after the epoch whose test accuracy reaches stop_at. Returns per-epoch
       {epoch, seconds, test_accuracy, train_loss}, seconds counted to the end of that epoch's test pass.
"""
import copy
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Sampler, TensorDataset

from _protocol import serve, setup_threads

state = {}


class SeedMnistCnn(nn.Module):
    """conv32 → pool → conv64 → pool → conv128 → pool → dense128 → dense10 on 1×28×28 ('valid' 3×3
    convs, 2×2 pools: 28 → 26 → 13 → 11 → 5 → 3 → 1), the keys of Tessera's seedMnistCnn."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class EpochOrder(Sampler):
    """The sample order of the current epoch, as Tessera's shuffling sampler drew it."""

    def __init__(self, orders):
        self.orders = orders
        self.epoch = 0

    def __iter__(self):
        return iter(self.orders[self.epoch].tolist())

    def __len__(self):
        return len(self.orders[self.epoch])


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def split(data, prefix):
    x = torch.from_numpy(read_idx(os.path.join(data, f"{prefix}-images-idx3-ubyte.gz")).copy()).unsqueeze(1)
    y = torch.from_numpy(read_idx(os.path.join(data, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64))
    return TensorDataset(x, y)


def init(threads, data, dir, params, epochs, batch, eval_batch, lr, samples):
    info = setup_threads(threads)
    train, test = split(data, "train"), split(data, "t10k")
    train = TensorDataset(*(t[:samples] for t in train.tensors))
    model = SeedMnistCnn()
    sd = model.state_dict()
    for p in params:
        if p["name"] not in sd or list(sd[p["name"]].shape) != p["shape"]:
            raise ValueError(f"Tessera's {p['name']} {p['shape']} does not fit this model: {[(k, list(v.shape)) for k, v in sd.items()]}")
        sd[p["name"]] = torch.from_numpy(np.fromfile(os.path.join(dir, p["file"]), dtype=np.float32).reshape(p["shape"]))
    if set(sd) != {p["name"] for p in params}:
        raise ValueError(f"parameter names differ: {sorted(sd)} vs {sorted(p['name'] for p in params)}")
    model.load_state_dict(sd)
    orders = np.fromfile(os.path.join(dir, "orders.i32"), dtype=np.int32).reshape(epochs, len(train))
    sampler = EpochOrder(orders)
    state.update(
        model0=model, epochs=epochs, lr=lr, sampler=sampler,
        train=DataLoader(train, batch_size=batch, sampler=sampler, num_workers=0),
        test=DataLoader(test, batch_size=eval_batch, shuffle=False, num_workers=0),
    )
    return {**info, "model": str(model).replace("\n", " ")}


def run(stop_at):
    model = copy.deepcopy(state["model0"])
    opt = torch.optim.Adam(model.parameters(), lr=state["lr"])
    points = []
    t0 = time.perf_counter()
    for epoch in range(state["epochs"]):
        state["sampler"].epoch = epoch
        model.train()
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.int64)
        n = 0
        for x, y in state["train"]:
            x = x.float().div(255)
            opt.zero_grad(set_to_none=True)
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * y.shape[0]
            correct += (out.detach().argmax(1) == y).sum()
            n += y.shape[0]
        train_loss = float(loss_sum) / n
        model.eval()
        right = 0
        total = 0
        test_loss = 0.0
        with torch.no_grad():
            for x, y in state["test"]:
                out = model(x.float().div(255))
                test_loss += float(F.cross_entropy(out, y, reduction="sum"))
                right += int((out.argmax(1) == y).sum())
                total += y.shape[0]
        acc = right / total
        points.append({"epoch": epoch, "seconds": time.perf_counter() - t0, "test_accuracy": acc, "train_loss": train_loss})
        if acc >= stop_at:
            break
    return {"points": points}


serve({"init": init, "run": run})
