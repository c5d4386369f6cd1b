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
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))


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
        del model
    print(json.dumps(out))


if __name__ == '__main__':
    main()
