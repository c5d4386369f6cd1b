#!/usr/bin/env python3
"""PyTorch reference for Tessera's layer harness (test/nn/harness.ts).

Reads ONE JSON request on stdin and writes ONE JSON response on stdout:

  request  = {"cases": [case, ...]}
  case     = {"id": str, "py": str, "call": str, "dtype": str, "seed": int,
              "steps": [{"mode": "train" | "eval",
                         "inputs": [[tensor, requires_grad], ...],   # bound to the list x
                         "weights": [[flat_index, tensor], ...]}]}   # w for each differentiable output
  tensor   = {"dtype": str, "shape": [int], "values": [number | str]}
  response = {"torch": version, "results": {id: result}}
  result   = {"repr": str, "init": [[key, tensor]],
              "steps": [{"out": [tensor], "outGrad": [bool], "inputGrads": [tensor | None],
                         "paramGrads": [[name, tensor | None]], "state": [[key, tensor]]}]}
           | {"error": str}

Per case: torch.manual_seed(seed); m = eval(py); m.to(dtype) (floating tensors only). Per step i:
m.train(mode); torch.manual_seed(seed + 1 + i); out = eval(call) with m and x in scope; then
backward of sum_k sum(out_k * w_k) and the gradients of the inputs and of every parameter.
"""
import json
import math
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.ops as tvops

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}


class SigmoidFocalLoss(nn.Module):
    """torchvision.ops.sigmoid_focal_loss as a module, with Tessera's repr."""

    def __init__(self, alpha=0.25, gamma=2.0, reduction="mean"):
        super().__init__()
        self.alpha, self.gamma, self.reduction = alpha, gamma, reduction

    def forward(self, x, y):
        return tvops.sigmoid_focal_loss(x, y, self.alpha, self.gamma, self.reduction)

    def extra_repr(self):
        return f"alpha={float(self.alpha)}, gamma={float(self.gamma)}, reduction='{self.reduction}'"


class FocalLoss(nn.Module):
    """Multi-class focal loss, -alpha_y (1 - p_y)^gamma log p_y, written from the paper."""

    def __init__(self, gamma=2.0, alpha=None, ignore_index=-100, reduction="mean"):
        super().__init__()
        self.gamma, self.ignore_index, self.reduction = gamma, ignore_index, reduction
        self.scalar_alpha = alpha if isinstance(alpha, (int, float)) else None
        self.register_buffer("alpha", alpha if isinstance(alpha, torch.Tensor) else None)

    def forward(self, x, y):
        valid = y != self.ignore_index
        safe = y.masked_fill(~valid, 0)
        logpt = F.log_softmax(x, 1).gather(1, safe.unsqueeze(1)).squeeze(1)
        loss = -((1 - logpt.exp()) ** self.gamma) * logpt
        weight = valid.to(x.dtype)
        if self.alpha is not None:
            weight = weight * self.alpha[safe]
        elif self.scalar_alpha is not None:
            loss = loss * self.scalar_alpha
        loss = loss * weight
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.sum() / weight.sum()

    def extra_repr(self):
        return f"gamma={float(self.gamma)}, reduction='{self.reduction}'"


class DiceLoss(nn.Module):
    """segmentation_models.pytorch (>= 0.4) losses.DiceLoss, forward and soft_tversky_score(0.5, 0.5)
    written out from its source (smp is not installed here), with Tessera's repr."""

    def __init__(self, mode="multiclass", from_logits=True, smooth=0.0, eps=1e-7, ignore_index=None, log_loss=False):
        super().__init__()
        self.mode, self.from_logits, self.smooth, self.eps = mode, from_logits, smooth, eps
        self.ignore_index, self.log_loss = ignore_index, log_loss

    def forward(self, y_pred, y_true):
        assert y_true.size(0) == y_pred.size(0)
        if self.from_logits:
            y_pred = y_pred.log_softmax(dim=1).exp() if self.mode == "multiclass" else F.logsigmoid(y_pred).exp()
        bs = y_true.size(0)
        num_classes = y_pred.size(1)
        dims = (0, 2)
        if self.mode == "binary":
            y_true = y_true.reshape(bs, 1, -1)
            y_pred = y_pred.reshape(bs, 1, -1)
            if self.ignore_index is not None:
                mask = y_true != self.ignore_index
                y_pred = y_pred * mask
                y_true = y_true * mask
        if self.mode == "multiclass":
            y_true = y_true.reshape(bs, -1)
            y_pred = y_pred.reshape(bs, num_classes, -1)
            if self.ignore_index is not None:
                mask = y_true != self.ignore_index
                y_pred = y_pred * mask.unsqueeze(1)
                y_true = F.one_hot((y_true * mask).to(torch.long), num_classes)  # N,H*W -> N,H*W, C
                y_true = y_true.permute(0, 2, 1) * mask.unsqueeze(1)  # N, C, H*W
            else:
                y_true = F.one_hot(y_true, num_classes)
                y_true = y_true.permute(0, 2, 1)
        if self.mode == "multilabel":
            y_true = y_true.reshape(bs, num_classes, -1)
            y_pred = y_pred.reshape(bs, num_classes, -1)
            if self.ignore_index is not None:
                mask = y_true != self.ignore_index
                y_pred = y_pred * mask
                y_true = y_true * mask
        output, target = y_pred, y_true.type_as(y_pred)
        # soft_tversky_score(output, target, 0.5, 0.5, smooth, eps, dims)
        output_sum = torch.sum(output, dim=dims)
        target_sum = torch.sum(target, dim=dims)
        difference = torch.linalg.vector_norm(output - target, ord=1, dim=dims)
        intersection = (output_sum + target_sum - difference) / 2
        fp = output_sum - intersection
        fn = target_sum - intersection
        scores = (intersection + self.smooth) / (intersection + 0.5 * fp + 0.5 * fn + self.smooth).clamp_min(self.eps)
        if self.log_loss:
            loss = -torch.log(scores.clamp_min(self.eps))
        else:
            loss = 1.0 - scores
        mask = y_true.sum(dims) > 0
        loss *= mask.to(loss.dtype)
        return loss.mean()

    def extra_repr(self):
        return (f"mode='{self.mode}', from_logits={self.from_logits}, smooth={float(self.smooth)}, eps={float(self.eps)}, "
                f"ignore_index={self.ignore_index}, log_loss={self.log_loss}")


class DiceCELoss(nn.Module):
    """Cross-entropy plus smp's multiclass Dice, one ignore index: Tessera's DiceCELoss, by definition."""

    def __init__(self, ignore_index=255, ce_weight=1.0, dice_weight=1.0, smooth=0.0, eps=1e-7, log_loss=False):
        super().__init__()
        self.ignore_index, self.ce_weight, self.dice_weight = ignore_index, ce_weight, dice_weight
        self.smooth, self.eps, self.log_loss = smooth, eps, log_loss
        self._dice = DiceLoss("multiclass", True, smooth, eps, ignore_index, log_loss)

    def forward(self, x, y):
        return self.ce_weight * F.cross_entropy(x, y, ignore_index=self.ignore_index) + self.dice_weight * self._dice(x, y)

    def __repr__(self):  # the Dice term is a function on Tessera's side, not a child module
        return (f"DiceCELoss(ce_weight={float(self.ce_weight)}, dice_weight={float(self.dice_weight)}, smooth={float(self.smooth)}, "
                f"eps={float(self.eps)}, ignore_index={self.ignore_index}, log_loss={self.log_loss})")


def decode_number(v):
    if isinstance(v, str):
        return float(v)
    return v


def decode(t):
    return torch.tensor([decode_number(v) for v in t["values"]], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])


def encode_number(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def encode(t):
    t = t.detach()
    return {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": [encode_number(v) for v in t.reshape(-1).tolist()]}


def flatten(v, out):
    if isinstance(v, torch.Tensor):
        out.append(v)
    elif isinstance(v, (tuple, list)):
        for x in v:
            flatten(x, out)
    return out


def state(m):
    return [[k, encode(v)] for k, v in m.state_dict().items()]


def run_case(case):
    scope = {"torch": torch, "nn": nn, "F": F, "math": math, "tvops": tvops,
             "SigmoidFocalLoss": SigmoidFocalLoss, "FocalLoss": FocalLoss, "OrderedDict": OrderedDict,
             "DiceLoss": DiceLoss, "DiceCELoss": DiceCELoss}
    torch.manual_seed(case["seed"])
    m = eval(case["py"], scope)  # noqa: S307 - test fixture expressions from test/nn/*.test.ts
    m.to(DTYPES[case["dtype"]])
    result = {"repr": repr(m), "init": state(m), "steps": []}
    for i, step in enumerate(case["steps"]):
        m.train(step["mode"] == "train")
        x = []
        for t, grad in step["inputs"]:
            v = decode(t)
            x.append(v.requires_grad_(True) if grad else v)
        torch.manual_seed(case["seed"] + 1 + i)
        out = flatten(eval(case["call"], {**scope, "m": m, "x": x}), [])  # noqa: S307
        loss = None
        for k, w in step["weights"]:
            term = (out[k] * decode(w)).sum()
            loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        result["steps"].append({
            "out": [encode(o) for o in out],
            "outGrad": [o.requires_grad for o in out],
            "inputGrads": [None if v.grad is None else encode(v.grad) for v in x],
            "paramGrads": [[n, None if p.grad is None else encode(p.grad)] for n, p in m.named_parameters()],
            "state": state(m),
        })
        m.zero_grad(set_to_none=True)
    return result


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(1)
    results = {}
    for case in request["cases"]:
        try:
            results[case["id"]] = run_case(case)
        except Exception as e:  # reported per case
            results[case["id"]] = {"error": f"{type(e).__name__}: {e}"}
    json.dump({"torch": torch.__version__, "results": results}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
