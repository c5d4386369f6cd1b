// optim: optimizers, learning-rate schedules, gradient clipping.
export {};
