"""Reference outputs for test/data/image/jpeg-native.test.ts, from PIL and torchvision.

Reads a JSON job on stdin: {"cases": [{"file", "ref", "crop": [l, t, w, h], "resize": [w, h],
"offset": [x, y], "out": [w, h], "flip", "channels", "normalize"?: [mean, std]}], "dir"} and writes
case <k>'s pixels to <dir>/<k>.bin as CHW uint8, or as float32 after torchvision's ToTensor +
Normalize(mean, std) when the case has "normalize". Every image is opened as torchvision's
ImageFolder opens it (PIL, convert('RGB')), upright (ImageOps.exif_transpose, what decodeImage does).

ref "pil":    crop → resize(BILINEAR) → window → flip → convert('L') if grey: RandomResizedCrop's
              (and Resize + CenterCrop's) PIL path.
ref "tensor": torchvision.transforms.functional.resized_crop(..., antialias=True) on the uint8
              tensor of the same pixels (float arithmetic, rounded back to uint8).
ref "full":   the whole upright image, no resize: libjpeg-turbo's own full decode, through PIL.
ref "eval":   torchvision's Resize(resize) + CenterCrop(out) on the PIL image.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image, ImageOps


def upright_rgb(path):
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def run(case):
    im = upright_rgb(case["file"])
    if case["ref"] == "full":
        return np.asarray(im).transpose(2, 0, 1)
    if case["ref"] == "eval":
        W, H = case["out"]
        return np.asarray(T.Compose([T.Resize(case["resize"]), T.CenterCrop([H, W])])(im)).transpose(2, 0, 1)
    l, t, w, h = case["crop"]
    rw, rh = case["resize"]
    ox, oy = case["offset"]
    W, H = case["out"]
    if case["ref"] == "pil":
        r = im.crop((l, t, l + w, t + h)).resize((rw, rh), Image.BILINEAR)
        r = r.crop((ox, oy, ox + W, oy + H))
        if case["flip"]:
            r = r.transpose(Image.FLIP_LEFT_RIGHT)
        if case["channels"] == 1:
            r = r.convert("L")
        if "normalize" in case:
            mean, std = case["normalize"]
            return F.normalize(F.to_tensor(r), mean, std).numpy()
        return np.asarray(r).reshape(H, W, -1).transpose(2, 0, 1)
    if case["ref"] == "tensor":
        x = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)
        y = F.resized_crop(x, t, l, h, w, [rh, rw], antialias=True)
        y = y[:, oy : oy + H, ox : ox + W]
        if case["flip"]:
            y = F.hflip(y)
        return y.numpy()
    raise ValueError(f"unknown ref {case['ref']!r}")


def main():
    job = json.load(sys.stdin)
    for k, case in enumerate(job["cases"]):
        out = run(case)
        out = np.ascontiguousarray(out, dtype=np.float32 if "normalize" in case else np.uint8)
        with open(os.path.join(job["dir"], f"{k}.bin"), "wb") as f:
            f.write(out.tobytes())


main()
