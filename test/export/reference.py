# The Python side of the ONNX export tests (test/export/*.test.ts). Reads one JSON request on stdin
# and prints one JSON answer:
#   {"check": [path, ...]}
#       ONNX's own checker (python3-onnx) on each file, and strict shape and type inference on files
#       up to 100 MB (the VGGs' 500 MB would take a minute to infer and write back, and their graphs
#       are the same ops as the smaller models'): {"check": {path: null or the error}}
#   {"twins": [{"name", "build", "weights", "input", "out"}, ...]}
#       PyTorch's exporter on the twin: build it (a Python expression; torchvision in scope), load
#       the weights Tessera saved (.pt), eval mode, torch.onnx.export at opset 17 with a dynamic
#       batch axis to `out`: {"twins": {name: null or the error}}
import json
import os
import sys

import onnx

request = json.load(sys.stdin)
answer = {}

if 'check' in request:
    answer['check'] = {}
    for path in request['check']:
        inferred = path + '.inferred'
        try:
            onnx.checker.check_model(path)  # a path: the C++ checker reads the file itself (no 2 GB copy)
            if os.path.getsize(path) <= 100_000_000:
                onnx.shape_inference.infer_shapes_path(path, inferred, check_type=True, strict_mode=True)
            answer['check'][path] = None
        except Exception as e:  # the message is the test's failure text
            answer['check'][path] = f'{type(e).__name__}: {e}'
        finally:
            if os.path.exists(inferred):
                os.remove(inferred)

if 'twins' in request:
    import torch
    import torchvision  # noqa: F401 (used by the `build` expressions)

    torch.set_num_threads(1)
    answer['twins'] = {}
    for case in request['twins']:
        try:
            model = eval(case['build'])  # the twin's constructor, written in the test next to ours
            model.load_state_dict(torch.load(case['weights']), strict=True)
            model.eval()
            torch.onnx.export(model, torch.randn(case['input']), case['out'], opset_version=17, input_names=['input'], output_names=['output'],
                              dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
            answer['twins'][case['name']] = None
        except Exception as e:
            answer['twins'][case['name']] = f'{type(e).__name__}: {e}'

print(json.dumps(answer))
