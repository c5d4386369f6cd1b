#!/usr/bin/env python3
"""PyTorch reference for Tessera's op conformance harness (test/conformance/harness.ts).

Reads ONE JSON request on stdin and writes ONE JSON response on stdout:

  request  = {"cases": [case, ...]}
  case     = {"id": str, "expr": str, "dtype": str, "seed": int | null,
              "inputs": [[name, tensor], ...],       # bound to `name` while evaluating expr
              "grad": [name, ...],                   # inputs that require grad
              "weights": [[flat_index, tensor], ...]}  # w for each differentiable output
  tensor   = {"dtype": str, "shape": [int], "values": [number | bool | str]}
  response = {"torch": version, "results": {id: {"out": value, "grads": {name: tensor | null}}
                                            | {"out": value, "gradError": str} | {"error": str}}}
  value    = {"kind": "tensor", ...tensor} | {"kind": "list", "items": [value]}
           | {"kind": "number" | "bool" | "dtype" | "str", "value": ...} | {"kind": "none"}

Numbers that JSON cannot carry exactly are strings: "nan", "inf", "-inf", and integers beyond
2**53 (int64). Gradients are those of sum_k sum(out_k * w_k), out_k being the k-th tensor of the
flattened output (depth-first), w_k the weight tensor sent for it.

`expr` is a Python expression evaluated with `torch`, `F` (torch.nn.functional), `math`, `dtype`
(the case's torch dtype) and the inputs in scope. The table is ours and so is this input: it is a
test fixture, never user data.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

DTYPES = {
    "float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32, "int16": torch.int16,
    "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}
SAFE = 2 ** 53


def decode_number(v):
    if isinstance(v, str):
        return float(v) if v in ("nan", "inf", "-inf") else int(v)
    return v


def decode_tensor(t):
    dt = DTYPES[t["dtype"]]
    values = [decode_number(v) for v in t["values"]]
    if dt == torch.bool:
        values = [bool(v) for v in values]
    # float16/bfloat16: the values sent are exactly representable (the harness quantizes them).
    return torch.tensor(values, dtype=dt).reshape(t["shape"])


def encode_number(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    return v if -SAFE <= v <= SAFE else str(v)


def encode_tensor(t):
    requires_grad = t.requires_grad
    t = t.detach()
    name = NAMES.get(t.dtype)
    if name is None:
        raise TypeError(f"output dtype {t.dtype} has no Tessera name")
    flat = t.reshape(-1)
    if t.dtype in (torch.float16, torch.bfloat16):
        flat = flat.float()
    return {"kind": "tensor", "dtype": name, "shape": list(t.shape), "requiresGrad": requires_grad,
            "values": [encode_number(v) for v in flat.tolist()]}


def encode(v):
    if isinstance(v, torch.Tensor):
        return encode_tensor(v)
    if isinstance(v, (tuple, list)):  # also torch.return_types structseqs
        return {"kind": "list", "items": [encode(x) for x in v]}
    if isinstance(v, bool):
        return {"kind": "bool", "value": v}
    if isinstance(v, (int, float)):
        return {"kind": "number", "value": encode_number(v)}
    if isinstance(v, torch.dtype):
        return {"kind": "dtype", "value": NAMES.get(v, str(v))}
    if isinstance(v, str):
        return {"kind": "str", "value": v}
    if v is None:
        return {"kind": "none"}
    raise TypeError(f"cannot encode a {type(v).__name__}")


def flatten(v, out):
    if isinstance(v, torch.Tensor):
        out.append(v)
    elif isinstance(v, (tuple, list)):
        for x in v:
            flatten(x, out)
    return out


def run_case(case):
    inputs = {name: decode_tensor(t) for name, t in case["inputs"]}
    for name in case["grad"]:
        inputs[name].requires_grad_(True)
    scope = {"torch": torch, "F": F, "math": math, "dtype": DTYPES[case["dtype"]], **inputs}
    if case.get("seed") is not None:
        torch.manual_seed(case["seed"])
    out = eval(case["expr"], scope)  # noqa: S307 - fixture expressions from optable.ts
    result = {"out": encode(out)}
    if case["grad"] and case["weights"]:
        try:
            result["grads"] = gradients(case, inputs, out)
        except Exception as e:  # the outputs still compare (a requires_grad mismatch shows there)
            result["gradError"] = f"{type(e).__name__}: {e}"
    return result


def gradients(case, inputs, out):
    tensors = flatten(out, [])
    loss = None
    for index, w in case["weights"]:
        if index >= len(tensors):
            raise IndexError(f"weight for output {index}, but the output has {len(tensors)} tensors")
        o = tensors[index]
        term = (o * decode_tensor(w).to(o.dtype)).sum()
        loss = term if loss is None else loss + term
    names = case["grad"]
    grads = torch.autograd.grad(loss, [inputs[n] for n in names], allow_unused=True)
    return {n: (None if g is None else encode_tensor(g)) for n, g in zip(names, grads)}


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(1)
    results = {}
    for case in request["cases"]:
        try:
            results[case["id"]] = run_case(case)
        except Exception as e:  # reported per case; the harness shows it in that case's test
            results[case["id"]] = {"error": f"{type(e).__name__}: {e}"}
    json.dump({"torch": torch.__version__, "results": results}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
