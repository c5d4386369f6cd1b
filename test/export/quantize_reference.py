# The reference side of test/export/quantize.test.ts: checks an int8 QDQ file written by Tessera
# against PyTorch's own quantization observers and numpy, on the same weights and calibration data.
# Reads one JSON request on stdin:
#   {"onnx": path, "weights": .pt state dict, "data": .npy calibration inputs, "build": Python
#    expression of the twin (torch in scope), "taps": {tensor name in the file: index of the twin's
#    module whose output it is, or "input"}, "layers": [{"key": "0", "input": tensor name}, ...]}
# and prints {"problems": [...]} (empty when everything agrees):
#   activations: scale and zero point of every tapped tensor = MinMaxObserver(quint8,
#                per_tensor_affine) over the twin's activations (scale to 1e-6 relative, zero point exact);
#   weights:     per-channel scales = PerChannelMinMaxObserver(qint8, per_channel_symmetric, −127..127)
#                of the layer's weight, and the int8 codes = clip(round(w / scale)) in float32 (numpy,
#                ORT's quantize_nparray) with the file's scales, exactly;
#   biases:      int32 codes = round(b / (input scale · weight scale)) with the file's scales, exactly.
import json
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

req = json.load(sys.stdin)
torch.set_num_threads(1)
model = eval(req['build'])
model.load_state_dict(torch.load(req['weights']), strict=True)
model.eval()
x = torch.from_numpy(np.load(req['data']))
inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(req['onnx']).graph.initializer}
problems = []

outputs = {'input': x}
h = x
with torch.no_grad():
    for i, m in enumerate(model):
        h = m(h)
        outputs[str(i)] = h

for name, tap in req['taps'].items():
    obs = torch.ao.quantization.MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
    obs(outputs[str(tap)])
    scale, zp = obs.calculate_qparams()
    got_scale = float(inits[name + '_scale'])
    got_zp = int(inits[name + '_zero_point'])
    if abs(got_scale - float(scale)) > 1e-6 * float(scale) or got_zp != int(zp):
        problems.append(f'{name}: scale {got_scale}, zero point {got_zp}; PyTorch {float(scale)}, {int(zp)}')

for layer in req['layers']:
    key = layer['key']
    m = model[int(key)]
    w = m.weight.detach().numpy().astype(np.float32)
    obs = torch.ao.quantization.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric, quant_min=-127, quant_max=127)
    obs(m.weight.detach())
    scales, zps = obs.calculate_qparams()
    got = inits[key + '.weight_scale']
    if not np.allclose(got, scales.numpy(), rtol=1e-6, atol=0) or np.any(inits[key + '.weight_zero_point'] != 0):
        problems.append(f'{key}.weight: scales {got.tolist()}, PyTorch {scales.tolist()}')
    shape = (-1,) + (1,) * (w.ndim - 1)
    codes = np.clip(np.round(w / got.astype(np.float32).reshape(shape)), -127, 127).astype(np.int8)
    mismatched = int(np.sum(codes != inits[key + '.weight_quantized']))
    if mismatched:
        problems.append(f'{key}.weight: {mismatched} of {codes.size} int8 codes differ from round(w / scale)')
    if m.bias is not None:
        s_in = np.float32(inits[layer['input'] + '_scale'])
        bias_scale = (s_in * got.astype(np.float32)).astype(np.float32)
        if not np.array_equal(bias_scale, inits[key + '.bias_quantized_scale']):
            problems.append(f'{key}.bias: scales {inits[key + ".bias_quantized_scale"].tolist()}, expected input scale · weight scales {bias_scale.tolist()}')
        b = m.bias.detach().numpy().astype(np.float32)
        bias_codes = np.round(b / bias_scale).astype(np.int32)
        if not np.array_equal(bias_codes, inits[key + '.bias_quantized']):
            problems.append(f'{key}.bias: codes {inits[key + ".bias_quantized"].tolist()}, expected {bias_codes.tolist()}')

print(json.dumps({'problems': problems}))
