"""The RBM (PCD-k) and denoising-autoencoder steps of tools/bench.py, by hand: PyTensor and PyTorch.

Each is the tutorial's step: the RBM's k Gibbs steps from the persistent chain, the free-energy
cost with the chain's end held constant, SGD, the chain update and the pseudo-likelihood
monitor with its bit counter; the dA's binomial corruption, tied-weight reconstruction and
cross-entropy. The hand-written PyTensor draws as the tutorial does (binomial), in a scan that
carries the generator, as PyTensor 3 asks.
"""

from __future__ import annotations

import numpy as np

N_IN = 784


def rbm_init(hidden: int) -> list[np.ndarray]:
    bound = 4 * np.sqrt(6.0 / (N_IN + hidden))
    w = np.random.RandomState(123).uniform(-bound, bound, (N_IN, hidden)).astype(np.float32)
    return [w, np.zeros(hidden, np.float32), np.zeros(N_IN, np.float32)]


def hand_rbm(spec, xs, mode):
    import pytensor
    import pytensor.tensor as pt

    W, hbias, vbias = (pytensor.shared(v) for v in rbm_init(spec.hidden))
    chain = pytensor.shared(np.zeros((spec.batch, spec.hidden), np.float32))
    bit = pytensor.shared(np.int64(0))
    rng = pt.random.shared_rng(seed=123)
    index, x = pt.lscalar("index"), pt.matrix("x", dtype="float32")

    def free_energy(v):
        return -(v @ vbias) - pt.sum(pt.softplus(v @ W + hbias), axis=1)

    def gibbs_hvh(h, g):
        v_mean = pt.sigmoid(h @ W.T + vbias)
        g, v = g.binomial(1, v_mean)
        h_mean = pt.sigmoid(pt.cast(v, "float32") @ W + hbias)
        g, h1 = g.binomial(1, h_mean)
        return pt.cast(v, "float32"), pt.cast(h1, "float32"), g

    v_samples, h_samples, g_end = pytensor.scan(gibbs_hvh, outputs_info=[None, chain, rng], n_steps=spec.k, return_updates=False)
    chain_end = v_samples[-1]
    cost = pt.mean(free_energy(x)) - pt.mean(free_energy(chain_end))
    params = [W, hbias, vbias]
    grads = pytensor.grad(cost, params, consider_constant=[chain_end])
    xi = pt.round(x)
    flipped = pt.set_subtensor(xi[:, bit], 1 - xi[:, bit])
    monitor = pt.mean(N_IN * pt.log(pt.sigmoid(free_energy(flipped) - free_energy(xi))))
    updates = [(p, p - np.float32(spec.lr) * g) for p, g in zip(params, grads, strict=True)]
    updates += [(chain, h_samples[-1]), (bit, (bit + 1) % N_IN), (rng, g_end)]
    b = spec.batch
    return pytensor.function([index], monitor, updates=updates, givens={x: xs[index * b : (index + 1) * b]}, mode=mode)


def hand_da(spec, xs, mode):
    import pytensor
    import pytensor.tensor as pt

    W, b, b_prime = (pytensor.shared(v) for v in rbm_init(spec.hidden))
    rng = pt.random.shared_rng(seed=123)
    index, x = pt.lscalar("index"), pt.matrix("x", dtype="float32")
    g, mask = rng.binomial(1, np.float32(1 - spec.corruption), size=(spec.batch, N_IN))
    y = pt.sigmoid((pt.cast(mask, "float32") * x) @ W + b)
    z = pt.sigmoid(y @ W.T + b_prime)
    cost = pt.mean(-pt.sum(x * pt.log(z) + (1 - x) * pt.log(1 - z), axis=1))
    params = [W, b, b_prime]
    updates = [(p, p - np.float32(spec.lr) * gp) for p, gp in zip(params, pytensor.grad(cost, params), strict=True)] + [(rng, g)]
    n = spec.batch
    return pytensor.function([index], cost, updates=updates, givens={x: xs[index * n : (index + 1) * n]}, mode=mode)


def torch_rbm(spec, xt):
    import torch

    W, hbias, vbias = (torch.from_numpy(v).requires_grad_() for v in rbm_init(spec.hidden))
    state = {"chain": torch.zeros(spec.batch, spec.hidden), "bit": 0}
    b = spec.batch

    def free_energy(v):
        return -(v @ vbias) - torch.nn.functional.softplus(v @ W + hbias).sum(1)

    def step(i: int) -> float:
        x = xt[i * b : (i + 1) * b]
        with torch.no_grad():
            h = state["chain"]
            for _ in range(spec.k):
                v = torch.bernoulli(torch.sigmoid(h @ W.T + vbias))
                h = torch.bernoulli(torch.sigmoid(v @ W + hbias))
        cost = free_energy(x).mean() - free_energy(v).mean()
        with torch.no_grad():
            for p, g in zip((W, hbias, vbias), torch.autograd.grad(cost, (W, hbias, vbias)), strict=True):
                p.sub_(g, alpha=spec.lr)
            state["chain"] = h
            xi = torch.round(x)
            flipped = xi.clone()
            flipped[:, state["bit"]] = 1 - xi[:, state["bit"]]
            monitor = (N_IN * torch.nn.functional.logsigmoid(free_energy(flipped) - free_energy(xi))).mean()
            state["bit"] = (state["bit"] + 1) % N_IN
        return monitor.item()

    return step


def torch_da(spec, xt):
    import torch

    W, b, b_prime = (torch.from_numpy(v).requires_grad_() for v in rbm_init(spec.hidden))
    n = spec.batch

    def step(i: int) -> float:
        x = xt[i * n : (i + 1) * n]
        tilde = torch.bernoulli(torch.full_like(x, 1 - spec.corruption)) * x
        y = torch.sigmoid(tilde @ W + b)
        z = torch.sigmoid(y @ W.T + b_prime)
        cost = (-(x * torch.log(z) + (1 - x) * torch.log(1 - z)).sum(1)).mean()
        with torch.no_grad():
            for p, g in zip((W, b, b_prime), torch.autograd.grad(cost, (W, b, b_prime)), strict=True):
                p.sub_(g, alpha=spec.lr)
        return cost.item()

    return step


HAND = {"rbm": hand_rbm, "da": hand_da}
TORCH = {"rbm": torch_rbm, "da": torch_da}
