# The Python side of the io interop tests, run once per test file by test/io/*.test.ts:
#   reference.py safetensors DIR   reads DIR/tessera.safetensors, writes Python-made files
#   reference.py pt DIR            torch.loads DIR/tessera.pt (weights_only), torch.saves fixtures
# It prints one JSON object. The safetensors reader and writer here are written from the spec
# (struct + json + torch.frombuffer), since the `safetensors` package is not in Debian 12.
import json
import os
import struct
import subprocess
import sys
from collections import OrderedDict

import torch

DTYPES = {
    torch.float64: 'F64', torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16',
    torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8',
    torch.bool: 'BOOL',
}
BY_NAME = {v: k for k, v in DTYPES.items()}
# The reference's Dtype enum order (increasing alignment).
RANK = ['BOOL', 'U8', 'I8', 'I16', 'F16', 'BF16', 'I32', 'F32', 'F64', 'I64']


def raw_hex(t):
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex()


def describe(t):
    return {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'hex': raw_hex(t)}


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError('duplicate keys')
    return dict(pairs)


def read_safetensors(path):
    data = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', data[:8])
    text = data[8:8 + n].decode('utf-8')
    header = json.loads(text, object_pairs_hook=no_duplicates)
    metadata = header.pop('__metadata__', None)
    buf = data[8 + n:]
    out, cursor = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
        begin, end = info['data_offsets']
        assert begin == cursor, f'{name}: hole or overlap'
        cursor = end
        dtype = BY_NAME[info['dtype']]
        if end == begin:
            t = torch.empty(info['shape'], dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(buf[begin:end]), dtype=dtype).reshape(info['shape'])
        out[name] = describe(t)
    assert cursor == len(buf), 'bytes after the last tensor'
    return {'n': n, 'text': text, 'keys': list(header), 'metadata': metadata, 'tensors': out}


def write_safetensors(path, tensors, metadata=None, order=None):
    """Spec layout; `order` (names) overrides the reference's alignment-then-name order."""
    if order is None:
        order = sorted(tensors, key=lambda k: (-RANK.index(DTYPES[tensors[k].dtype]), k.encode()))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name in order:
        t = tensors[name].detach().contiguous()
        b = t.reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def python_tensors():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=g)
    return {
        'weight': x,
        'weight.t': x.t(),
        'f64': torch.randn(5, generator=g, dtype=torch.float64),
        'f16': torch.randn(2, 3, generator=g).half(),
        'bf16': torch.randn(2, 3, generator=g).bfloat16(),
        'i64': torch.tensor([-(2 ** 63), 2 ** 63 - 1, 5]),
        'i32': torch.tensor([-(2 ** 31), 2 ** 31 - 1], dtype=torch.int32),
        'i16': torch.tensor([-32768, 32767], dtype=torch.int16),
        'i8': torch.tensor([-128, 127], dtype=torch.int8),
        'u8': torch.tensor([0, 255], dtype=torch.uint8),
        'mask': torch.tensor([[True, False], [False, True]]),
        'scalar': torch.tensor(2.5),
        'empty': torch.zeros(0, 3),
        'ünïcode ключ': torch.tensor([1.0]),
    }


def mode_safetensors(d):
    out = {'tessera': read_safetensors(os.path.join(d, 'tessera.safetensors'))}
    ts = python_tensors()
    write_safetensors(os.path.join(d, 'python.safetensors'), ts, {'format': 'pt', 'author': 'reference.py'})
    write_safetensors(os.path.join(d, 'python-nameorder.safetensors'), ts, None, order=sorted(ts, reverse=True))
    out['python'] = {k: describe(v) for k, v in ts.items()}
    return out


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def describe_loaded(path):
    # weights_only=True: the restricted unpickler that PyTorch 2.6+ uses by default.
    loaded = torch.load(path, weights_only=True)
    return {
        'type': type(loaded).__name__,
        'tensors': {k: dict(describe(v), ptr=v.storage().data_ptr(), offset=v.storage_offset(), stride=list(v.stride()))
                    for k, v in loaded.items()},
    }


def mode_pt(d):
    out = {'tessera': describe_loaded(os.path.join(d, 'tessera.pt')), 'tessera64': describe_loaded(os.path.join(d, 'tessera64.pt'))}

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 5))
    model(torch.randn(2, 3, 8, 8))  # batch norm statistics move, num_batches_tracked becomes 1
    fixtures = {
        'linear': torch.nn.Linear(4, 3).state_dict(),
        'conv': torch.nn.Conv2d(2, 3, 3, bias=False).state_dict(),
        'bn': model[1].state_dict(),
        'model': model.state_dict(),
        'half': {k: v.half() for k, v in torch.nn.Linear(3, 2).state_dict().items()},
    }
    base = torch.arange(20, dtype=torch.float32)
    fixtures['views'] = {
        'slice': base[2:7],                  # offset 2
        'column': base.view(4, 5)[:, 1],     # offset 1, stride 5
        'transposed': base.view(4, 5).t(),   # strides (1, 5)
        'whole': base,
        'same': base,                        # shares the storage of 'whole'
        'expanded': torch.tensor([1.0, 2.0]).expand(3, 2),
    }
    fixtures['dtypes'] = {DTYPES[t.dtype] + '_' + k: t for k, t in python_tensors().items()}
    for name, sd in fixtures.items():
        torch.save(sd, os.path.join(d, name + '.pt'))
    params = OrderedDict((k, torch.nn.Parameter(v)) for k, v in torch.nn.Linear(2, 2).state_dict().items())
    torch.save(params, os.path.join(d, 'params.pt'))
    fixtures['params'] = params
    for protocol in (4, 5):  # FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL
        torch.save(fixtures['model'], os.path.join(d, f'model_p{protocol}.pt'), pickle_protocol=protocol)
    torch.save({'model': fixtures['linear'], 'epoch': 3, 'optimizer': {'state': {}, 'param_groups': [{'lr': 0.1}]}},
               os.path.join(d, 'checkpoint.pt'))
    out['python'] = {name: {k: describe(v) for k, v in sd.items()} for name, sd in fixtures.items()}
    out['has_metadata'] = hasattr(fixtures['model'], '_metadata')

    # Files that run code under torch.load: each must be refused before anything runs.
    torch.save({'w': torch.zeros(1), 'x': Evil(os.system, 'touch ' + os.path.join(d, 'PWNED'))}, os.path.join(d, 'evil_system.pt'))
    torch.save(Evil(eval, '__import__("os").system("true")'), os.path.join(d, 'evil_eval.pt'))
    torch.save(Evil(subprocess.Popen, 'true'), os.path.join(d, 'evil_popen.pt'))
    torch.save(fixtures['linear'], os.path.join(d, 'legacy.pt'), _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), os.path.join(d, 'jit.pt'))
    return out


if __name__ == '__main__':
    mode, directory = sys.argv[1], sys.argv[2]
    result = {'safetensors': mode_safetensors, 'pt': mode_pt}[mode](directory)
    result['torch'] = torch.__version__
    json.dump(result, sys.stdout)
