"""Peer of bench/jpeg-kernel.ts: torchvision's per-image path on PIL, as an ImageFolder dataset's
__getitem__ runs it — Image.open, convert('RGB'), the transforms, ToTensor, Normalize — on one
thread, over JPEG bytes held in memory."""
import io
import os
import time

from PIL import Image
from torchvision import transforms as T

from _protocol import serve, setup_threads

NORMALIZE = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
PIPELINES = {
    "rrc": T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), NORMALIZE]),
    "eval": T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), NORMALIZE]),
}
folders = {}


def setup(threads, folders_by_name):
    info = setup_threads(threads)
    for name, folder in folders_by_name.items():
        folders[name] = [open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))]
    return info


def rep(folder, pipeline, images):
    files = folders[folder]
    tf = PIPELINES[pipeline]
    t0 = time.perf_counter()
    for k in range(images):
        tf(Image.open(io.BytesIO(files[k % len(files)])).convert("RGB"))
    return {"rate": images / (time.perf_counter() - t0)}


serve({"setup": setup, "rep": rep})
