"""Peer of bench/train-unet.ts: milesial/Pytorch-UNet's U-Net (unet_parts.py, with depth and width as
parameters: depth 4, width 32, transposed-convolution upsampling), 5 classes, per-pixel
cross-entropy, Adam lr 1e-3, on random 3x64x64 inputs and random per-pixel labels."""
import torch
import torch.nn.functional as F
from torch import nn

from _training import serve_training


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        mid_channels = mid_channels or out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(mid_channels), nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        dy, dx = x2.size(2) - x1.size(2), x2.size(3) - x1.size(3)
        x1 = F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes, width, depth):
        super().__init__()
        w = lambda level: width * 2 ** level  # noqa: E731
        self.inc = DoubleConv(n_channels, width)
        for i in range(1, depth + 1):
            setattr(self, f'down{i}', Down(w(i - 1), w(i)))
        for i in range(1, depth + 1):
            setattr(self, f'up{i}', Up(w(depth - i + 1), w(depth - i)))
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


serve_training(
    build_model=lambda: UNet(3, 5, width=32, depth=4),
    build_optimizer=lambda params: torch.optim.Adam(params, lr=1e-3),
    input_shape=(3, 64, 64),
    classes=5,
    label_shape=(64, 64),
)
