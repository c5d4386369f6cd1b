"""Peer of bench/data-folder.ts: an image folder through torchvision's standard ImageNet-style
training input — ImageFolder (PIL decode, convert('RGB')), RandomResizedCrop(224),
RandomHorizontalFlip, ToTensor, Normalize — in torch's DataLoader(batch_size, shuffle=True).

Commands:
  setup {threads, root, batch, seed, mean, std, workers}  one DataLoader per worker count; loaders
        with workers keep them between passes (persistent_workers), as Tessera's loader does.
  check {}          first batch of a fresh single-process loader: shape, dtype, channel means.
  rep   {workers}   one full shuffled pass of that loader, timed; returns images per second.
"""
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from _protocol import serve, setup_threads

state = {}


def setup(threads, root, batch, seed, mean, std, workers):
    info = setup_threads(threads)
    torch.manual_seed(seed)
    tf = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])
    dataset = datasets.ImageFolder(root, transform=tf)
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
