# PyTorch twins of the zoo's models, and the reference side of test/models/zoo.test.ts.
#
# Reads a JSON list of cases on stdin. For each case: torch.manual_seed(seed), build the twin, and
# report its state dict (keys, shapes, float64 sums and absolute sums) and parameter count; then,
# if the case names files, load Tessera's weights (`weights`, a .pt written by Tessera) or keep the
# seeded ones, run the input (`input`, a .pt holding {'x'}) in eval mode, backpropagate y.sum(), and
# save {'y', 'gx'} to `output`. Prints one JSON object {name: report}.
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_num_threads(1)


def conv_bn(ci, co):
    return nn.Sequential(nn.Conv2d(ci, co, 3, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU(inplace=True))


class Residual(nn.Sequential):
    def __init__(self, c):
        super().__init__(conv_bn(c, c), conv_bn(c, c))

    def forward(self, x):
        return x + super().forward(x)


class ResNet9(nn.Module):
    def __init__(self, num_classes=10, in_channels=3):
        super().__init__()
        self.prep = conv_bn(in_channels, 64)
        self.layer1 = nn.Sequential(*conv_bn(64, 128), nn.MaxPool2d(2))
        self.res1 = Residual(128)
        self.layer2 = nn.Sequential(*conv_bn(128, 256), nn.MaxPool2d(2))
        self.layer3 = nn.Sequential(*conv_bn(256, 512), nn.MaxPool2d(2))
        self.res3 = Residual(512)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Linear(512, num_classes, bias=False)

    def forward(self, x):
        for m in [self.prep, self.layer1, self.res1, self.layer2, self.layer3, self.res3, self.pool]:
            x = m(x)
        return self.fc(x.flatten(1)) * 0.125


class FashionNet(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, widths=(32, 64, 128), dropout=0.1):
        super().__init__()
        w0, w1, w2 = widths
        self.stem = conv_bn(in_channels, w0)
        self.stage1 = nn.Sequential(nn.MaxPool2d(2), *conv_bn(w0, w1), Residual(w1))
        self.stage2 = nn.Sequential(nn.MaxPool2d(2), *conv_bn(w1, w2), Residual(w2))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(w2, num_classes))

    def forward(self, x):
        h = self.stage2(self.stage1(self.stem(x)))
        return self.head(F.avg_pool2d(h, h.shape[2:]).flatten(1))


class Mlp(nn.Module):
    def __init__(self, inputs, hidden, classes, dropout=0):
        super().__init__()
        layers = []
        for h in hidden:
            layers += [nn.Linear(inputs, h), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout > 0 else [])
            inputs = h
        self.layers = nn.Sequential(*layers, nn.Linear(inputs, classes))

    def forward(self, x):
        return self.layers(x.flatten(1))


class LeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, pad=0):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(in_channels, 6, 5, padding=pad), nn.Tanh(), nn.AvgPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def vgg_features(cfg, in_channels):  # torchvision's make_layers(cfg, batch_norm=True), with in_channels
    layers = []
    for v in cfg:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers), in_channels


def torchvision_init(model):  # as torchvision's VGG / MobileNetV2 constructors
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.constant_(m.bias, 0)


class SmallVgg(nn.Module):
    def __init__(self, cfg, num_classes=10, in_channels=1, dropout=0.2):
        super().__init__()
        self.features, c = vgg_features(cfg, in_channels)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(c, num_classes))
        torchvision_init(self)

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class KerasSequential(nn.Module):
    """The seeds' Keras models: Conv2D(f, 3) 'valid' + ReLU, MaxPooling2D(2), Flatten, Dense."""

    def __init__(self, convs, dense, in_channels, size, classes, init='keras'):
        super().__init__()
        layers, c, s = [], in_channels, size
        for v in convs:
            if v == 'M':
                layers.append(nn.MaxPool2d(2))
                s //= 2
            else:
                layers += [nn.Conv2d(c, v, 3), nn.ReLU()]
                c, s = v, s - 2
        head, f = [], c * s * s
        for d in dense:
            head += [nn.Linear(f, d), nn.ReLU()]
            f = d
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(*head, nn.Linear(f, classes))
        if init == 'keras':
            keras_init(self)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def keras_init(model):  # glorot_uniform kernels, zero biases
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


class Net(nn.Module):  # seed 004, verbatim
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(784, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x.flatten(1)))
        x = self.fc2(x)
        return x


# ---- pytorch/examples dcgan/main.py: Generator and Discriminator. At image_size 64 these are the
# example's classes line for line; other sizes repeat the middle block fewer times and use a b x b
# first/last kernel (image_size = b * 2**k), as Tessera's dcgan.ts.
def dcgan_shape(image_size):
    base, levels = image_size, 0
    while base % 2 == 0 and base // 2 >= 4:
        base, levels = base // 2, levels + 1
    return base, levels


class Generator(nn.Module):
    def __init__(self, nz=100, ngf=64, nc=3, image_size=64):
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
    def __init__(self, ndf=64, nc=3, image_size=64):
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
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def weights_init(m):  # the example's, verbatim
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


def dcgan_init(m):
    m.apply(weights_init)
    return m


class Gan(nn.Module):
    """A generator and a discriminator side by side; forward is the generator's."""

    def __init__(self, generator, discriminator):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator

    def forward(self, z):
        return self.generator(z)


def dcgan(nz=100, ngf=64, ndf=64, nc=3, image_size=64):
    g = dcgan_init(Generator(nz, ngf, nc, image_size))
    return Gan(g, dcgan_init(Discriminator(ndf, nc, image_size)))


# ---- seed 001's create_gan in PyTorch, with the two changes gan-seed.ts explains: Dense(48) so that
# Reshape((4, 4, 3)) is valid, and 'same' padding in the discriminator's convolutions and poolings.
class SeedGanGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(100, 48), nn.ReLU())

    def forward(self, z):
        h = self.layers(z.reshape(z.shape[0], 100))
        return h.view(-1, 4, 4, 3).permute(0, 3, 1, 2)  # Keras' Reshape((4, 4, 3)) is channels last


class SeedGanDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding='same'), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(32, 64, 3, padding='same'), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(64, 128, 3, padding='same'), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
        self.classifier = nn.Sequential(nn.Linear(128, 1), nn.Sigmoid())

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1)).squeeze(1)


def seed_gan():
    return keras_gan_init(Gan(SeedGanGenerator(), SeedGanDiscriminator()))


def keras_gan_init(m):
    keras_init(m)
    return m


# ---- milesial/Pytorch-UNet (unet/unet_parts.py and unet_model.py), with depth and base width as
# parameters: UNetD(c, k, bilinear, 64, 4) is milesial's UNet(c, k, bilinear) module for module.
class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True)
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super(OutConv, self).__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNetD(nn.Module):
    def __init__(self, n_channels, n_classes, bilinear=False, width=64, depth=4):
        super().__init__()
        factor = 2 if bilinear else 1
        w = lambda level: width * 2 ** level  # noqa: E731
        self.inc = DoubleConv(n_channels, width)
        for i in range(1, depth + 1):
            setattr(self, f'down{i}', Down(w(i - 1), w(i) // factor if i == depth else w(i)))
        for i in range(1, depth + 1):
            level = depth - i
            setattr(self, f'up{i}', Up(w(level + 1), w(level) if i == depth else w(level) // factor, bilinear))
        self.outc = OutConv(width, n_classes)
        self.depth = depth

    def forward(self, x):
        xs = [self.inc(x)]
        for i in range(1, self.depth + 1):
            xs.append(getattr(self, f'down{i}')(xs[-1]))
        x = xs.pop()
        for i in range(1, self.depth + 1):
            x = getattr(self, f'up{i}')(x, xs.pop())
        return self.outc(x)


class MilesialUNet(nn.Module):  # unet/unet_model.py, verbatim but for use_checkpointing
    def __init__(self, n_channels, n_classes, bilinear=False):
        super(MilesialUNet, self).__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.bilinear = bilinear

        self.inc = (DoubleConv(n_channels, 64))
        self.down1 = (Down(64, 128))
        self.down2 = (Down(128, 256))
        self.down3 = (Down(256, 512))
        factor = 2 if bilinear else 1
        self.down4 = (Down(512, 1024 // factor))
        self.up1 = (Up(1024, 512 // factor, bilinear))
        self.up2 = (Up(512, 256 // factor, bilinear))
        self.up3 = (Up(256, 128 // factor, bilinear))
        self.up4 = (Up(128, 64, bilinear))
        self.outc = (OutConv(64, n_classes))

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        logits = self.outc(x)
        return logits


class DiscriminatorOf(nn.Module):
    """A Gan whose forward is its discriminator's (the same keys as the Gan), to check that half."""

    def __init__(self, gan):
        super().__init__()
        self.generator = gan.generator
        self.discriminator = gan.discriminator

    def forward(self, x):
        return self.discriminator(x)


# ---- the convolutional autoencoder of autoencoder.ts
class ConvAutoencoder(nn.Module):
    def __init__(self, in_channels=1, widths=(32, 16, 8), output='sigmoid', noise=0.0):
        super().__init__()
        enc, c = [], in_channels
        for w in widths:
            enc += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
            c = w
        dec = []
        for i in reversed(range(len(widths))):
            out = widths[max(i - 1, 0)]
            dec += [nn.ConvTranspose2d(c, out, 3, stride=2, padding=1, output_padding=1), nn.ReLU()]
            c = out
        dec.append(nn.Conv2d(c, in_channels, 3, padding=1))
        if output == 'sigmoid':
            dec.append(nn.Sigmoid())
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)
        self.noise = noise

    def forward(self, x):
        if self.training and self.noise > 0:
            x = x + torch.randn_like(x) * self.noise
        sizes = []
        for m in self.encoder:
            if isinstance(m, nn.MaxPool2d):
                sizes.append(x.shape[2:])
            x = m(x)
        for m in self.decoder:
            x = m(x, output_size=sizes.pop()) if isinstance(m, nn.ConvTranspose2d) else m(x)
        return x


def train_step(model, x0, seed):
    """One training-mode forward and backward of sum(y * w), w = sin(0.37 i): as twin.ts's trainStep."""
    model.zero_grad(set_to_none=True)
    model.train()
    x = x0.detach().clone().requires_grad_()
    torch.manual_seed(seed)
    y = model(x)
    w = torch.arange(y.numel(), dtype=y.dtype).mul(0.37).sin().view(y.shape)
    (y * w).sum().backward()
    out = {'y': y.detach(), 'gx': x.grad}
    out.update({f'grad.{n}': p.grad for n, p in model.named_parameters() if p.grad is not None})
    out.update({f'state.{k}': v.detach().clone() for k, v in model.named_buffers()})
    return out


def report(model):
    sd = model.state_dict()
    return {
        'keys': list(sd.keys()),
        'shapes': [list(v.shape) for v in sd.values()],
        'sums': [float(v.double().sum()) for v in sd.values()],
        'abs': [float(v.double().abs().sum()) for v in sd.values()],
        'numParameters': sum(p.numel() for p in model.parameters()),
    }


def main():
    out = {}
    for case in json.load(sys.stdin):
        torch.manual_seed(case['seed'])
        model = eval(case['build'])  # the twin's constructor, written in the test next to ours
        out[case['name']] = report(model)
        if 'input' in case:
            if case.get('weights'):
                model.load_state_dict(torch.load(case['weights']), strict=True)
            model.eval()
            x = torch.load(case['input'])['x'].requires_grad_()
            y = model(x)
            y.sum().backward()
            torch.save({'y': y.detach(), 'gx': x.grad}, case['output'])
            if case.get('train'):
                torch.save(train_step(model, x, case['seed'] + 2), case['output'].replace('.output.pt', '.train.pt'))
        del model
    print(json.dumps(out))


if __name__ == '__main__':
    main()
