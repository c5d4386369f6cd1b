#!/usr/bin/env python3
"""PyTorch reference for Tessera's optim tests (test/optim/harness.ts).

Reads ONE JSON request on stdin, {"kind": ..., "cases": [...]}, and writes ONE JSON reply,
{"torch": version, "results": [result | {"error": str}, ...]}, one result per case, in order.
Tensors travel as {"dtype", "shape", "values"}; "nan", "inf", "-inf" stand for the numbers JSON
lacks. Kinds:
  optim   an optimizer over a fixed gradient sequence: trajectory, and state_dict after k steps
  sched   an LR schedule: lrs (and momentum) after construction and after each step
  clip    clip_grad_norm_ / clip_grad_value_ on given gradients
  scaler  torch.cuda.amp.GradScaler's own Python logic driving SGD, its two CUDA kernels
          replaced by transcriptions (they have no CPU implementation in PyTorch 1.13)
  ema     the timm-style weight EMA, from its formula
The cases are our fixtures (eval'd expressions included), never user data.
"""
import json
import math
import sys
import warnings

import torch
import torch.cuda.amp.grad_scaler as grad_scaler
from torch.optim import lr_scheduler

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}


def num_in(v):
    return float(v) if isinstance(v, str) else v


def num_out(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def tensor_in(t):
    return torch.tensor([num_in(v) for v in t["values"]], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])


def tensor_out(t):
    t = t.detach()
    return {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": [num_out(v) for v in t.reshape(-1).tolist()]}


def value_out(v):
    """state_dict values: tensors, numbers, None, tuples (betas)."""
    if isinstance(v, torch.Tensor):
        return {"tensor": tensor_out(v)}
    if isinstance(v, (tuple, list)):
        return [value_out(x) for x in v]
    return num_out(v)


class LionRef(torch.optim.Optimizer):
    """Lion as Algorithm 2 of Chen et al. 2023 ("Symbolic Discovery of Optimization Algorithms"):
    c = b1*m + (1-b1)*g;  theta <- theta - lr*(sign(c) + wd*theta);  m <- b2*m + (1-b2)*g."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, wd, (b1, b2) = group["lr"], group["weight_decay"], group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                c = m * b1 + g * (1 - b1)
                p.mul_(1 - lr * wd)
                p.sub_(lr * torch.sign(c))
                m.mul_(b2).add_(g * (1 - b2))


def make_optimizer(case, params):
    groups = [{**g, "params": [params[i] for i in g["params"]]} for g in case["groups"]]
    cls = LionRef if case["optimizer"] == "Lion" else getattr(torch.optim, case["optimizer"])
    return cls(groups, **case["options"])


def run_optim(case):
    params = [tensor_in(t).requires_grad_() for t in case["params"]]
    opt = make_optimizer(case, params)
    trajectory, saved = [], None
    for step, grads in enumerate(case["grads"]):
        for p, g in zip(params, grads):
            p.grad = None if g is None else tensor_in(g)
        opt.step()
        trajectory.append([tensor_out(p) for p in params])
        if step + 1 == case["saveAfter"] and case["optimizer"] != "Lion":
            sd = opt.state_dict()
            saved = {"state": {str(k): {n: value_out(v) for n, v in s.items()} for k, s in sd["state"].items()},
                     "param_groups": [{n: value_out(v) for n, v in g.items()} for g in sd["param_groups"]]}
    return {"trajectory": trajectory, "stateDict": saved}


def run_sched(case):
    warnings.simplefilter("ignore")
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    cls = getattr(torch.optim, case["optimizer"])
    opt = cls([{"params": [params[0]]}, {"params": [params[1]], "lr": case["lrs"][1]}], lr=case["lrs"][0], **case["options"])
    sched = eval(case["expr"], {"torch": torch, "lr_scheduler": lr_scheduler, "opt": opt})  # noqa: S307 - test fixture

    def momentum(g):
        return g["betas"][0] if "betas" in g else g.get("momentum", 0)

    def snapshot():
        return {"lr": [g["lr"] for g in opt.param_groups], "momentum": [momentum(g) for g in opt.param_groups]}

    records = [snapshot()]
    for i in range(case["steps"]):
        opt.step()
        if case.get("metrics"):
            sched.step(case["metrics"][i])
        else:
            sched.step()
        records.append({**snapshot(), "lastLr": list(sched.get_last_lr()) if hasattr(sched, "get_last_lr") else None})
    return {"records": records}


def run_clip(case):
    params = [tensor_in(t).requires_grad_() for t in case["params"]]
    for p, g in zip(params, case["grads"]):
        p.grad = None if g is None else tensor_in(g)
    if case["mode"] == "value":
        torch.nn.utils.clip_grad_value_(params, case["clipValue"])
        total = None
    else:
        norm_type = num_in(case["normType"])
        total = tensor_out(torch.nn.utils.clip_grad_norm_(params, case["maxNorm"], norm_type))
    return {"total": total, "grads": [None if p.grad is None else tensor_out(p.grad) for p in params]}


class _Replicator:
    """grad_scaler._MultiDeviceReplicator without its CUDA assertion."""

    def __init__(self, master):
        self.master = master
        self._per_device_tensors = {}

    def get(self, device):
        t = self._per_device_tensors.get(device)
        if t is None:
            t = self.master.to(device=device, non_blocking=True, copy=True)
            self._per_device_tensors[device] = t
        return t


def _non_finite_check_and_unscale(grads, found_inf, inv_scale):
    """_amp_foreach_non_finite_check_and_unscale_cuda: flag any inf/nan; g = g * inv_scale (float32)."""
    for g in grads:
        if not bool(torch.isfinite(g).all()):
            found_inf.fill_(1.0)
        if inv_scale.item() != 1.0:
            g.mul_(inv_scale)


def _update_scale(scale, tracker, found_inf, growth_factor, backoff_factor, growth_interval):
    """amp_update_scale_cuda_kernel: the float32 scale times a double factor, rounded to float32."""
    if found_inf.item():
        scale.fill_(scale.item() * backoff_factor)
        tracker.fill_(0)
    else:
        successful = int(tracker.item()) + 1
        if successful == growth_interval:
            grown = torch.tensor(scale.item() * growth_factor, dtype=torch.float32)
            if bool(torch.isfinite(grown)):
                scale.fill_(grown.item())
            tracker.fill_(0)
        else:
            tracker.fill_(successful)
    return scale


class CPUGradScaler(grad_scaler.GradScaler):
    def scale(self, outputs):  # the original asserts CUDA; the arithmetic is the same
        if self._scale is None:
            self._lazy_init_scale_growth_tracker(outputs.device)
        return outputs * self._scale.to(device=outputs.device, non_blocking=True)


def run_scaler(case):
    grad_scaler.amp_definitely_not_available = lambda: False
    grad_scaler._MultiDeviceReplicator = _Replicator
    torch._amp_foreach_non_finite_check_and_unscale_ = _non_finite_check_and_unscale
    torch._amp_update_scale_ = _update_scale
    params = [tensor_in(t).requires_grad_() for t in case["params"]]
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    scaler = CPUGradScaler(**case["options"])
    out = []
    for it in case["iterations"]:
        opt.zero_grad(set_to_none=True)
        loss = sum((p * tensor_in(c)).sum() for p, c in zip(params, it["coefs"]))
        scaler.scale(loss).backward()
        if it["clip"]:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
        scaler.step(opt)
        # What step() decided (_maybe_opt_step steps iff no device found an inf).
        stepped = not sum(v.item() for v in scaler._found_inf_per_device(opt).values())
        scaler.update()
        rec = {"scale": scaler.get_scale(), "tracker": scaler._get_growth_tracker(), "stepped": stepped}
        if case["recordParams"]:
            rec["params"] = [tensor_out(p) for p in params]
        out.append(rec)
    return {"iterations": out, "stateDict": scaler.state_dict()}


def run_ema(case):
    weights = {k: tensor_in(t) for k, t in case["initial"]}
    ema = {k: v.clone() for k, v in weights.items()}
    decay, warmup = case["decay"], case["warmup"]
    out = []
    for n, snapshot in enumerate(case["snapshots"]):
        if warmup is None:
            d = decay
        else:  # timm ModelEmaV3.get_decay with the step counted from 0
            d = max(min(1 - (1 + n / warmup["gamma"]) ** -warmup["power"], decay), case["minDecay"])
        for k, t in snapshot:
            w = tensor_in(t)
            if ema[k].is_floating_point():
                ema[k].lerp_(w, 1 - d)
            else:
                ema[k].copy_(w)
        out.append([[k, tensor_out(v)] for k, v in ema.items()])
    return {"averages": out}


RUNNERS = {"optim": run_optim, "sched": run_sched, "clip": run_clip, "scaler": run_scaler, "ema": run_ema}


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(1)
    run = RUNNERS[request["kind"]]
    results = []
    for case in request["cases"]:
        try:
            results.append(run(case))
        except Exception as e:  # reported per case, in that case's test
            results.append({"error": f"{type(e).__name__}: {e}"})
    json.dump({"torch": torch.__version__, "results": results}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
