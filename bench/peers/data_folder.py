"""Peer of bench/lib/data-folder.ts (data-folder, data-eval, data-camera, data-packed-jpeg): photos
through torchvision's standard ImageNet-style input — PIL decode, convert('RGB'), then
RandomResizedCrop(224) + RandomHorizontalFlip ('train') or Resize(256) + CenterCrop(224) ('eval'),
ToTensor, Normalize — in torch's DataLoader(batch_size, shuffle=True). The source is an
ImageFolder, or ('packed') Tessera's packed JPEG shards read through a memory map (index.json
names each sample's shard, offset and length), decoded by PIL from the mapped bytes.

Commands:
  setup {threads, root, batch, seed, mean, std, workers, recipe, source}  one DataLoader per worker
        count; loaders with workers keep them between passes (persistent_workers), as Tessera's does.
  check {}          first batch of a fresh single-process loader: shape, dtype, channel means.
  rep   {workers}   one full shuffled pass of that loader, timed; returns images per second.
"""
import io
import json
import os
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets, transforms

from _protocol import serve, setup_threads

state = {}


class PackedJpegs(Dataset):
    """Tessera's packed JPEG shards (`tessera data pack`), memory-mapped."""

    def __init__(self, root, transform):
        with open(os.path.join(root, "index.json")) as f:
            index = json.load(f)
        if any(e != "jpeg" for e in index["samples"]["encoding"]):
            raise ValueError("PackedJpegs reads JPEG-encoded samples only")
        self.shards = [np.memmap(os.path.join(root, s["file"]), dtype=np.uint8, mode="r") for s in index["shards"]]
        self.samples = index["samples"]
        self.transform = transform

    def __len__(self):
        return len(self.samples["label"])

    def __getitem__(self, i):
        s = self.samples
        data = self.shards[s["shard"][i]][s["offset"][i] : s["offset"][i] + s["length"][i]]
        img = Image.open(io.BytesIO(data.tobytes())).convert("RGB")
        return self.transform(img), s["label"][i]


def setup(threads, root, batch, seed, mean, std, workers, recipe="train", source="folder"):
    info = setup_threads(threads)
    torch.manual_seed(seed)
    if recipe == "train":
        geometry = [transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip()]
    elif recipe == "eval":
        geometry = [transforms.Resize(256), transforms.CenterCrop(224)]
    else:
        raise ValueError(f"unknown recipe {recipe!r}")
    tf = transforms.Compose([*geometry, transforms.ToTensor(), transforms.Normalize(mean, std)])
    dataset = datasets.ImageFolder(root, transform=tf) if source == "folder" else PackedJpegs(root, tf)
    loaders = {
        w: DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=w, persistent_workers=w > 0)
        for w in workers
    }
    state.update(dataset=dataset, batch=batch, loaders=loaders)
    return info


def check():
    x, y = next(iter(DataLoader(state["dataset"], batch_size=state["batch"], shuffle=True, num_workers=0)))
    return {"shape": list(x.shape), "dtype": str(x.dtype).replace("torch.", ""), "means": x.mean(dim=(0, 2, 3)).tolist()}


def rep(workers):
    n = 0
    t0 = time.perf_counter()
    for x, y in state["loaders"][workers]:
        n += x.shape[0]
    seconds = time.perf_counter() - t0
    if n != len(state["dataset"]):
        raise RuntimeError(f"a pass gave {n} images, expected {len(state['dataset'])}")
    return {"rate": n / seconds}


serve({"setup": setup, "check": check, "rep": rep})
