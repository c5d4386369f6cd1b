// io: weights on disk (safetensors, PyTorch .pt).
export {};
