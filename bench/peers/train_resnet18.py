"""Peer of bench/train-resnet18.ts, train-resnet18-bf16.ts, bf16-speedup.ts and
channels-last-speedup.ts: torchvision's ResNet-18 with 10 classes, CIFAR variant (conv1 replaced by
a 3x3 stride-1 convolution without bias, max pool replaced by nn.Identity()), cross-entropy,
SGD momentum 0.9, lr 0.1, weight decay 5e-4, on random 3x32x32 inputs."""
import torch
import torchvision
from torch import nn

from _training import serve_training


def build_model():
    m = torchvision.models.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m


serve_training(
    build_model=build_model,
    build_optimizer=lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4),
    input_shape=(3, 32, 32),
)
