"""The peer side of bench/lib/training.ts: a PyTorch training loop driven over the JSON protocol.

Commands:
  init  {threads, dir, seed, batch, batches, variants}  seed, build the model, write its initial
        state (parameters and buffers) and the synthetic data set to `dir` as raw little-endian
        files plus manifest.json, then set up one training loop per variant.
  steps {n, variant}      n training steps, returning each step's loss (the numerics checks).
  rep   {steps, variant}  a timed repetition of `steps` training steps, returning images per second.
  reset {variant}         the variant starts again: initial weights, a new optimizer, batch 0.
The data set is `batches` fixed batches used in turn, so data loading is not part of the timing.

A variant is how the same model is trained: {"channels_last": bool, "autocast": "bfloat16" | None}.
Each variant has its own copy of the initial model and its own optimizer, so several variants can
be timed in one process from the same start. Without `variants` there is one, "default", plain
float32 and contiguous, trained by exactly the loop the benchmarks have always timed.
"""
import copy
import json
import os
import time

import torch
import torch.nn.functional as F

from _protocol import serve, setup_threads

_DTYPE_NAMES = {torch.float32: "float32", torch.int64: "int64"}


def serve_training(build_model, build_optimizer, input_shape, classes=10, label_shape=()):
    """`label_shape`: the shape of one sample's labels beyond the batch: () for classification,
    (H, W) for per-pixel labels (segmentation), drawn like the others in [0, classes)."""
    state = {"variants": {}}

    def make_variant(name, channels_last=False, autocast=None):
        model = copy.deepcopy(state["model0"])
        xs = state["xs"]
        if channels_last:
            # PyTorch's recipe: 4-D parameters and the inputs in NHWC strides, once, outside timing.
            model = model.to(memory_format=torch.channels_last)
            xs = [x.contiguous(memory_format=torch.channels_last) for x in xs]
        if autocast not in (None, "bfloat16"):
            raise ValueError(f"autocast {autocast!r}: only bfloat16 on CPU")
        state["variants"][name] = {
            "model": model,
            "opt": build_optimizer(model.parameters()),
            "xs": xs,
            "autocast": autocast,
            "config": {"channels_last": channels_last, "autocast": autocast},
            "k": 0,
        }

    def init(threads, dir, seed, batch, batches, variants=None):
        info = setup_threads(threads)
        torch.manual_seed(seed)
        model = build_model()
        model.train()
        xs = torch.randn(batches, batch, *input_shape, dtype=torch.float32)
        ys = torch.randint(0, classes, (batches, batch, *label_shape), dtype=torch.int64)
        params, buffers = [], []
        for i, (name, p) in enumerate(model.named_parameters()):
            file = f"param{i:03d}.f32"
            p.detach().contiguous().numpy().tofile(os.path.join(dir, file))
            params.append({"name": name, "shape": list(p.shape), "file": file})
        for i, (name, b) in enumerate(model.named_buffers()):
            file = f"buffer{i:03d}.bin"
            b.detach().contiguous().numpy().tofile(os.path.join(dir, file))
            buffers.append({"name": name, "shape": list(b.shape), "dtype": _DTYPE_NAMES[b.dtype], "file": file})
        xs.numpy().tofile(os.path.join(dir, "x.f32"))
        ys.numpy().tofile(os.path.join(dir, "y.i64"))
        manifest = {
            "params": params,
            "buffers": buffers,
            "x": {"file": "x.f32", "shape": list(xs.shape)},
            "y": {"file": "y.i64", "shape": list(ys.shape)},
        }
        with open(os.path.join(dir, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        state.update(model0=model, xs=list(xs.unbind(0)), ys=list(ys.unbind(0)), batch=batch)
        for name, config in (variants or {"default": {}}).items():
            make_variant(name, **config)
        opt = state["variants"][next(iter(state["variants"]))]["opt"]
        return {**info, "model": str(model).replace("\n", " "), "optimizer": type(opt).__name__, "optimizer_repr": str(opt).replace("\n", " ")}

    def step(v):
        model, opt = v["model"], v["opt"]
        i = v["k"] % len(v["xs"])
        v["k"] += 1
        opt.zero_grad(set_to_none=True)
        if v["autocast"]:
            # PyTorch's recipe: forward and loss under autocast, backward and the update outside it.
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = F.cross_entropy(model(v["xs"][i]), state["ys"][i])
        else:
            loss = F.cross_entropy(model(v["xs"][i]), state["ys"][i])
        loss.backward()
        opt.step()
        return loss.item()

    def steps(n, variant="default"):
        v = state["variants"][variant]
        return {"losses": [step(v) for _ in range(n)]}

    def rep(steps, variant="default"):
        v = state["variants"][variant]
        t0 = time.perf_counter()
        for _ in range(steps):
            step(v)
        seconds = time.perf_counter() - t0
        return {"rate": steps * state["batch"] / seconds, "seconds": seconds}

    def reset(variant="default"):
        make_variant(variant, **state["variants"][variant]["config"])
        return {}

    serve({"init": init, "steps": steps, "rep": rep, "reset": reset})
