# PyTorch's own DistributedDataParallel over Gloo, on the data and initial weights the Tessera
# tests use: the reference for test/dist/train.test.ts. Same recipe as fixtures/train-rank.ts.
# usage: ddp_reference.py INIT DATA OUT PORT WORLD STEPS BATCH LR MOMENTUM BN(0|1)
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel


def build_cnn(batch_norm):
    # fixtures/model.ts builds the same network.
    layers = [nn.Conv2d(1, 6, 3, padding=1)] + ([nn.BatchNorm2d(6)] if batch_norm else []) + [
        nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 3 * 3, 10)]
    return nn.Sequential(*layers)


def run(rank, init, data, out, port, world, steps, batch, lr, momentum, bn):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
    model = build_cnn(bn)
    model.load_state_dict(torch.load(init))
    ddp = DistributedDataParallel(model)
    tensors = torch.load(data)
    x, y = tensors['x'], tensors['y']
    opt = torch.optim.SGD(ddp.parameters(), lr=lr, momentum=momentum)
    share = batch // world
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        start = step * batch + rank * share
        F.cross_entropy(ddp(x[start:start + share]), y[start:start + share]).backward()
        opt.step()
    torch.save(model.state_dict(), f'{out}-rank{rank}.pt')
    dist.destroy_process_group()


if __name__ == '__main__':
    init, data, out, port, world, steps, batch, lr, momentum, bn = sys.argv[1:11]
    world = int(world)
    mp.spawn(run, args=(init, data, out, int(port), world, int(steps), int(batch), float(lr), float(momentum), bn == '1'), nprocs=world)
