"""Peer of bench/train-mlp.ts: MLP 784-500-10 (ReLU), cross-entropy, plain SGD lr 0.01."""
import torch
from torch import nn

from _training import serve_training

serve_training(
    build_model=lambda: nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10)),
    build_optimizer=lambda params: torch.optim.SGD(params, lr=0.01),
    input_shape=(784,),
)
