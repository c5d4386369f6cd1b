"""Peer of bench/train-dcgan.ts: one DCGAN training step of PyTorch's example (pytorch/examples
dcgan/main.py): netG and netD with the example's layers (at image_size 64 exactly its classes; 32
drops one stride-2 layer per side, as Tessera's models.dcgan), weights_init, nn.BCELoss, Adam lr
2e-4, betas (0.5, 0.999) for each. A step is the example's: D on a real batch (label 1) and on
G(z).detach() (label 0), D's update; then D(G(z)) against label 1 and G's update.

The noise is drawn once, with the real batches (uniform in [-1, 1], the range of tanh images), so
both sides see the same numbers: data loading and noise drawing are not part of the timing.

Commands (over _protocol): init {threads, dir, seed, batch, batches, nz, ngf, ndf, nc, image_size},
steps {n} (each step's [errD, errG]), rep {steps} (images per second).
"""
import json
import os
import time

import torch
import torch.nn as nn

from _protocol import serve, setup_threads


def dcgan_shape(image_size):
    base, levels = image_size, 0
    while base % 2 == 0 and base // 2 >= 4:
        base, levels = base // 2, levels + 1
    return base, levels


class Generator(nn.Module):
    def __init__(self, nz, ngf, nc, image_size):
        super().__init__()
        base, levels = dcgan_shape(image_size)
        c = ngf * 2 ** (levels - 1)
        layers = [nn.ConvTranspose2d(nz, c, base, 1, 0, bias=False), nn.BatchNorm2d(c), nn.ReLU(True)]
        for _ in range(1, levels):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, ndf, nc, image_size):
        super().__init__()
        base, levels = dcgan_shape(image_size)
        c = ndf
        layers = [nn.Conv2d(nc, c, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for _ in range(1, levels):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2), nn.LeakyReLU(0.2, inplace=True)]
            c *= 2
        layers += [nn.Conv2d(c, 1, base, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


_NAMES = {torch.float32: "float32", torch.int64: "int64"}
state = {}


def write_state(model, dir, prefix):
    out = []
    for i, (name, t) in enumerate(model.state_dict().items()):
        file = f"{prefix}{i:03d}.bin"
        t.detach().contiguous().numpy().tofile(os.path.join(dir, file))
        out.append({"name": name, "shape": list(t.shape), "dtype": _NAMES[t.dtype], "file": file})
    return out


def init(threads, dir, seed, batch, batches, nz, ngf, ndf, nc, image_size):
    info = setup_threads(threads)
    torch.manual_seed(seed)
    g = Generator(nz, ngf, nc, image_size)
    g.apply(weights_init)
    d = Discriminator(ndf, nc, image_size)
    d.apply(weights_init)
    real = torch.rand(batches, batch, nc, image_size, image_size) * 2 - 1
    noise = torch.randn(batches, batch, nz, 1, 1)
    real.numpy().tofile(os.path.join(dir, "real.f32"))
    noise.numpy().tofile(os.path.join(dir, "noise.f32"))
    manifest = {
        "generator": write_state(g, dir, "g"),
        "discriminator": write_state(d, dir, "d"),
        "real": {"file": "real.f32", "shape": list(real.shape)},
        "noise": {"file": "noise.f32", "shape": list(noise.shape)},
    }
    with open(os.path.join(dir, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    g.train()
    d.train()
    state.update(
        g=g, d=d, real=list(real.unbind(0)), noise=list(noise.unbind(0)), batch=batch, k=0, criterion=nn.BCELoss(),
        optD=torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999)),
        optG=torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999)),
    )
    return {**info, "model": f"{g} {d}".replace("\n", " ")}


def step():
    g, d, criterion = state["g"], state["d"], state["criterion"]
    i = state["k"] % len(state["real"])
    state["k"] += 1
    real, noise = state["real"][i], state["noise"][i]
    # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
    d.zero_grad(set_to_none=True)
    label = torch.full((real.size(0),), 1.0)
    err_real = criterion(d(real), label)
    err_real.backward()
    fake = g(noise)
    label.fill_(0.0)
    err_fake = criterion(d(fake.detach()), label)
    err_fake.backward()
    err_d = err_real + err_fake
    state["optD"].step()
    # (2) Update G: maximize log(D(G(z)))
    g.zero_grad(set_to_none=True)
    label.fill_(1.0)
    err_g = criterion(d(fake), label)
    err_g.backward()
    state["optG"].step()
    return [err_d.item(), err_g.item()]


def steps(n):
    return {"losses": [step() for _ in range(n)]}


def rep(steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return {"rate": steps * state["batch"] / (time.perf_counter() - t0)}


serve({"init": init, "steps": steps, "rep": rep})
