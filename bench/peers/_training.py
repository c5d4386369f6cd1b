"""The peer side of bench/lib/training.ts: a PyTorch training loop driven over the JSON protocol.

Commands:
  init  {threads, dir, seed, batch, batches}  seed, build the model, write its initial weights and
        the synthetic data set to `dir` as raw little-endian files plus manifest.json.
  steps {n}      n training steps, returning each step's loss (the numerics check).
  rep   {steps}  a timed repetition of `steps` training steps, returning images per second.
The data set is `batches` fixed batches used in turn, so data loading is not part of the timing.
"""
import json
import os
import time

import torch
import torch.nn.functional as F

from _protocol import serve, setup_threads


def serve_training(build_model, build_optimizer, input_shape, classes=10):
    state = {}

    def init(threads, dir, seed, batch, batches):
        info = setup_threads(threads)
        torch.manual_seed(seed)
        model = build_model()
        model.train()
        opt = build_optimizer(model.parameters())
        xs = torch.randn(batches, batch, *input_shape, dtype=torch.float32)
        ys = torch.randint(0, classes, (batches, batch), dtype=torch.int64)
        params = []
        for i, (name, p) in enumerate(model.named_parameters()):
            file = f"param{i:02d}.f32"
            p.detach().contiguous().numpy().tofile(os.path.join(dir, file))
            params.append({"name": name, "shape": list(p.shape), "file": file})
        xs.numpy().tofile(os.path.join(dir, "x.f32"))
        ys.numpy().tofile(os.path.join(dir, "y.i64"))
        manifest = {
            "params": params,
            "x": {"file": "x.f32", "shape": list(xs.shape)},
            "y": {"file": "y.i64", "shape": list(ys.shape)},
        }
        with open(os.path.join(dir, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        state.update(model=model, opt=opt, xs=list(xs.unbind(0)), ys=list(ys.unbind(0)), k=0, batch=batch)
        return {**info, "model": str(model).replace("\n", " "), "optimizer": type(opt).__name__}

    def step():
        model, opt = state["model"], state["opt"]
        i = state["k"] % len(state["xs"])
        state["k"] += 1
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(state["xs"][i]), state["ys"][i])
        loss.backward()
        opt.step()
        return loss.item()

    def steps(n):
        return {"losses": [step() for _ in range(n)]}

    def rep(steps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        seconds = time.perf_counter() - t0
        return {"rate": steps * state["batch"] / seconds, "seconds": seconds}

    serve({"init": init, "steps": steps, "rep": rep})
