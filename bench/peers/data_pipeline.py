"""Peer of bench/data-pipeline.ts: torchvision's ImageFolder path for one image — PIL decode,
convert('RGB'), RandomResizedCrop(224), RandomHorizontalFlip, to a uint8 array — in one process."""
import io
import os
import time

import numpy as np
from PIL import Image
from torchvision import transforms

from _protocol import serve, setup_threads

files = []
tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip()])


def setup(threads, folder):
    global files
    info = setup_threads(threads)
    files = [open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))]
    return info


def rep(images):
    t0 = time.perf_counter()
    for k in range(images):
        img = Image.open(io.BytesIO(files[k % len(files)])).convert("RGB")
        np.asarray(tf(img))
    return {"rate": images / (time.perf_counter() - t0)}


serve({"setup": setup, "rep": rep})
