"""The main job in PyTorch: the peer of `tessera train` (bench/main-job.ts).

Reads the recipe from a Tessera run's files, so both sides train the same thing:
  config.json  epochs, batch size, SGD (lr, momentum, Nesterov, weight decay off norms and biases),
               one-cycle (warm-up share; PyTorch's OneCycleLR, which Tessera's reproduces), label
               smoothing, mixed precision, validation share, crop padding, flip, test-time flip,
               threads, seed
  model.json   the normalisation Tessera measured (mean, std)
and the initial weights Tessera's fashion-net gets for that seed (--weights: raw float32 in
state-dict order, with a .json of names and shapes). The model is fashion-net
(src/models/fashion-net.ts) in torch.nn. Data: the Fashion-MNIST IDX files in memory as uint8, a
stratified validation split, per-batch random crop (zero padding, on uint8) + horizontal flip, then
(x/255 − mean)/std: the same work as Tessera's tensor fast path, vectorised. What is not the same:
the order of the samples and the draws of crop/flip come from torch's generator, not Tessera's
Philox streams (same distributions).

Prints one JSON line: seconds from the start of this process to the test result, test accuracy,
per-epoch validation accuracy and seconds, images/s.
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

T0 = time.perf_counter()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def conv_bn_act(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())


class Residual(nn.Sequential):
    def __init__(self, c):
        super().__init__(conv_bn_act(c, c), conv_bn_act(c, c))

    def forward(self, x):
        return x + super().forward(x)


class FashionNet(nn.Module):
    def __init__(self, widths=(32, 64, 128), classes=10, dropout=0.1):
        super().__init__()
        w0, w1, w2 = widths
        self.stem = conv_bn_act(1, w0)
        self.stage1 = nn.Sequential(nn.MaxPool2d(2), *conv_bn_act(w0, w1), Residual(w1))
        self.stage2 = nn.Sequential(nn.MaxPool2d(2), *conv_bn_act(w1, w2), Residual(w2))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(w2, classes))

    def forward(self, x):
        h = self.stage2(self.stage1(self.stem(x)))
        return self.head(F.avg_pool2d(h, h.shape[2:]).flatten(1))  # as Tessera's (channels_last-friendly backward)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, 1, rows, cols)
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def stratified_split(labels, share, gen):
    """Indices (train, val): `share` of each class held out, drawn with `gen`."""
    train, val = [], []
    for c in labels.unique().tolist():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        k = round(len(idx) * share)
        val.append(idx[:k])
        train.append(idx[k:])
    return torch.cat(train), torch.cat(val)


def crop_flip(x, padding, flip, gen):
    """Random crop after zero padding + horizontal flip, per sample, on a uint8 (B, 1, H, W) batch."""
    b, _, h, w = x.shape
    if padding > 0:
        p = F.pad(x, (padding,) * 4)
        dy = torch.randint(0, 2 * padding + 1, (b,), generator=gen)
        dx = torch.randint(0, 2 * padding + 1, (b,), generator=gen)
        rows = (dy[:, None] + torch.arange(h))[:, :, None]
        cols = (dx[:, None] + torch.arange(w))[:, None, :]
        x = p[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)
    if flip:
        mask = torch.rand(b, generator=gen) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True, help="a Tessera run directory (config.json, model.json)")
    ap.add_argument("--weights", help="initial weights (raw float32, state-dict order; names/shapes in <file>.json)")
    ap.add_argument("--data", default=os.environ.get("TESSERA_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
    a = ap.parse_args()
    config = json.load(open(os.path.join(a.run, "config.json")))
    saved = json.load(open(os.path.join(a.run, "model.json")))
    t, aug = config["train"], config["augment"]
    norm = saved["preprocessing"]["normalize"]
    mean, std = norm["mean"][0], norm["std"][0]
    threads = t.get("threads") or os.cpu_count()
    torch.set_num_threads(threads)
    seed = t["seed"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    bf16 = t["mixedPrecision"] == "bf16"
    tta = aug.get("testFlip", aug["hflip"])  # Tessera's default: on when training flips

    x_all = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"))
    y_all = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"))
    x_test = read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    y_test = read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz"))
    tr, va = stratified_split(y_all, config["data"]["valSplit"], gen)
    x_tr, y_tr, x_va, y_va = x_all[tr], y_all[tr], x_all[va], y_all[va]

    model = FashionNet()
    if a.weights:
        layout = json.load(open(a.weights + ".json"))
        flat = torch.from_numpy(__import__("numpy").fromfile(a.weights, dtype="float32"))
        sd, at = {}, 0
        for name, shape in layout:
            n = math.prod(shape)
            sd[name] = flat[at:at + n].reshape(shape).clone()
            at += n
        own = model.state_dict()
        for k, v in own.items():
            if k.endswith("num_batches_tracked"):
                sd.setdefault(k, v)
        model.load_state_dict(sd)
    if config["model"].get("channelsLast"):
        model = model.to(memory_format=torch.channels_last)
    o = t["optimizer"]
    decay = [p for m in model.modules() if not isinstance(m, nn.BatchNorm2d) for n, p in m.named_parameters(recurse=False) if not n.startswith("bias")]
    no_decay = [p for m in model.modules() for n, p in m.named_parameters(recurse=False) if isinstance(m, nn.BatchNorm2d) or n.startswith("bias")]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": o["weightDecay"]}, {"params": no_decay, "weight_decay": 0}],
                          lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"], weight_decay=o["weightDecay"])
    batch = t["batchSize"]
    steps_per_epoch = math.ceil(len(x_tr) / batch)
    total = t["epochs"] * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=total,
                                                pct_start=min(max(t["schedule"]["warmup"], 2 / total), 1 - 2 / total))

    def prep(xb):
        x = (xb.float() / 255 - mean) / std
        return x.contiguous(memory_format=torch.channels_last) if config["model"].get("channelsLast") else x

    def evaluate(x, y, flip=False):
        model.eval()
        correct = 0
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            for i in range(0, len(x), 1000):
                xb = prep(x[i:i + 1000])
                out = model(xb).float()
                if flip:
                    out = (out + model(xb.flip(3)).float()) / 2
                correct += (out.argmax(1) == y[i:i + 1000]).sum().item()
        return correct / len(x)

    epochs = []
    t_train = time.perf_counter()
    for epoch in range(t["epochs"]):
        e0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(x_tr), generator=gen)
        for s in range(steps_per_epoch):
            idx = perm[s * batch:(s + 1) * batch]
            xb = prep(crop_flip(x_tr[idx], aug["cropPadding"], aug["hflip"], gen))
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(model(xb), y_tr[idx], label_smoothing=t["labelSmoothing"])
            loss.backward()
            opt.step()
            sched.step()
            loss.item()
        train_s = time.perf_counter() - e0
        val = evaluate(x_va, y_va) if len(x_va) > 0 else None  # data.valSplit 0: no validation, as in Tessera
        epochs.append({"epoch": epoch + 1, "val_accuracy": val, "train_seconds": train_s, "seconds": time.perf_counter() - e0})
        print(f"peer epoch {epoch + 1}: val {val}, {train_s:.1f} s training, {len(x_tr) / train_s:.0f} img/s", file=sys.stderr)
    train_seconds = time.perf_counter() - t_train
    test = evaluate(x_test, y_test, flip=tta)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "seed": seed, "bf16": bf16, "tta": tta,
                      "test_accuracy": test, "epochs": epochs, "train_seconds": train_seconds,
                      "images_per_second": len(x_tr) * t["epochs"] / sum(e["train_seconds"] for e in epochs),
                      "seconds": time.perf_counter() - T0}))


if __name__ == "__main__":
    main()
