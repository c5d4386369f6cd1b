"""Peer of bench/train-cnn.ts: the seeds' CNN on 32x32x3 inputs, cross-entropy, Adam lr 1e-3.
conv(3->32, 3x3) ReLU maxpool2 -> conv(32->64, 3x3) ReLU maxpool2 -> flatten (64*6*6) -> 128 ReLU -> 10,
'valid' padding as in Keras' default: 32 -> 30 -> 15 -> 13 -> 6."""
import torch
from torch import nn

from _training import serve_training

serve_training(
    build_model=lambda: nn.Sequential(
        nn.Conv2d(3, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 6 * 6, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    ),
    build_optimizer=lambda params: torch.optim.Adam(params, lr=1e-3),
    input_shape=(3, 32, 32),
)
