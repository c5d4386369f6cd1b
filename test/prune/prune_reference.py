# The PyTorch side of test/prune/*.test.ts. Reads one JSON request on stdin:
#   {"masks": [{"build", "weights", "amount", "out"}, ...]}
#       torch.nn.utils.prune.global_unstructured over every Conv1d/Conv2d/Linear weight of the twin
#       (built from a Python expression, torch and torchvision in scope; weights from Tessera's .pt),
#       L1Unstructured, `amount`; the masks saved to `out` as a state dict {'<module>.weight': mask}.
#   {"finetune": {"build", "weights", "amount", "x", "y", "steps", "lr", "momentum", "weight_decay", "out"}}
#       the same pruning, then `steps` SGD steps on cross-entropy of (x, y) through PyTorch's masked
#       reparametrisation (weight = weight_orig · weight_mask), prune.remove, and the state dict saved to `out`.
# Prints {} when done.
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision  # noqa: F401 (used by `build` expressions)
from torch.nn.utils import prune

torch.set_num_threads(1)
req = json.load(sys.stdin)


def pruned(case):
    model = eval(case['build'])
    model.load_state_dict(torch.load(case['weights']), strict=True)
    params = [(m, 'weight') for m in model.modules() if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear))]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=case['amount'])
    return model, params


for case in req.get('masks', []):
    model, _ = pruned(case)
    torch.save({f'{name}.weight': m.weight_mask for name, m in model.named_modules() if hasattr(m, 'weight_mask')}, case['out'])

if 'finetune' in req:
    case = req['finetune']
    model, params = pruned(case)
    model.train()
    x = torch.from_numpy(np.load(case['x']))
    y = torch.from_numpy(np.load(case['y']))
    opt = torch.optim.SGD(model.parameters(), lr=case['lr'], momentum=case['momentum'], weight_decay=case['weight_decay'])
    for _ in range(case['steps']):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    for m, name in params:
        prune.remove(m, name)
    torch.save(model.state_dict(), case['out'])

print('{}')
