"""models/mlp_dropout.sdl's training step in tools/bench.py, by hand: PyTensor and PyTorch.

Two ReLU layers of 1024 with inverted dropout (0.5) after each, a softmax output, the mean negative
log-likelihood, Adam (bias-corrected moments) at lr / (1 + steps / 2000), batches of 100.
"""

from __future__ import annotations

import numpy as np

N_IN, N_OUT, HIDDEN, DROP, HALF_LIFE = 784, 10, 1024, 0.5, 2000.0
BETA1, BETA2, EPS = np.float32(0.9), np.float32(0.999), np.float32(1e-8)  # float32: a Python float would widen the updates


def dropout_init() -> list[np.ndarray]:
    """W, b per layer: the hidden layers glorot(relu) uniform, the output zeros, as the model initialises them."""
    rng, params = np.random.RandomState(1234), []
    for fan_in, fan_out in ((N_IN, HIDDEN), (HIDDEN, HIDDEN)):
        bound = np.sqrt(2.0) * np.sqrt(6.0 / (fan_in + fan_out))
        params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32), np.zeros(fan_out, np.float32)]
    return params + [np.zeros((HIDDEN, N_OUT), np.float32), np.zeros(N_OUT, np.float32)]


def hand_dropout(spec, xs, ys, mode):
    import pytensor
    import pytensor.tensor as pt
    from bench_workers import minibatch

    params = [pytensor.shared(v) for v in dropout_init()]
    moments = [(pytensor.shared(np.zeros_like(v)), pytensor.shared(np.zeros_like(v))) for v in dropout_init()]
    steps, rng = pytensor.shared(np.float32(0)), pt.random.shared_rng(seed=1234)
    index, x, y = pt.lscalar("index"), pt.matrix("x", dtype="float32"), pt.ivector("y")
    b, keep = spec.batch, np.float32(1 - DROP)
    rng1, u1 = rng.uniform(size=(b, HIDDEN), dtype="float32")
    rng2, u2 = rng1.uniform(size=(b, HIDDEN), dtype="float32")
    h1 = pt.maximum(x @ params[0] + params[1], 0) * pt.cast(u1 < keep, "float32") / keep
    h2 = pt.maximum(h1 @ params[2] + params[3], 0) * pt.cast(u2 < keep, "float32") / keep
    cost = -pt.mean(pt.special.log_softmax(h2 @ params[4] + params[5], axis=1)[pt.arange(b), y])
    t = steps + 1
    lr = np.float32(spec.lr) / (1 + steps / np.float32(HALF_LIFE))
    updates = [(steps, t), (rng, rng2)]
    for p, (m, v), g in zip(params, moments, pytensor.grad(cost, params), strict=True):
        m1, v1 = BETA1 * m + (1 - BETA1) * g, BETA2 * v + (1 - BETA2) * g**2
        step = lr * (m1 / (1 - BETA1**t)) / (pt.sqrt(v1 / (1 - BETA2**t)) + EPS)
        updates += [(m, m1), (v, v1), (p, p - step)]
    givens = {x: minibatch(xs, index, b, mode), y: minibatch(ys, index, b, mode)}
    return pytensor.function([index], cost, updates=updates, givens=givens, mode=mode)


def torch_dropout(spec, xt, yt):
    import torch

    values = dropout_init()
    layers = [torch.nn.Linear(w.shape[0], w.shape[1]) for w in values[0::2]]
    with torch.no_grad():
        for layer, w, bias in zip(layers, values[0::2], values[1::2], strict=True):
            layer.weight.copy_(torch.from_numpy(w.T))
            layer.bias.copy_(torch.from_numpy(bias))
    relu, drop = torch.nn.ReLU(), torch.nn.Dropout(DROP)
    net = torch.nn.Sequential(layers[0], relu, drop, layers[1], relu, drop, layers[2]).train()
    opt = torch.optim.Adam(net.parameters(), lr=spec.lr, betas=(float(BETA1), float(BETA2)), eps=float(EPS), foreach=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda steps: 1 / (1 + steps / HALF_LIFE))
    b, F = spec.batch, torch.nn.functional

    def step(i: int) -> float:
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(net(xt[i * b : (i + 1) * b]), yt[i * b : (i + 1) * b])
        loss.backward()
        opt.step()
        schedule.step()
        return loss.item()

    return step
