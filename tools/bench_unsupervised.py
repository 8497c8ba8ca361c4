"""The RBM (PCD-k) and denoising-autoencoder steps of tools/bench.py, by hand: PyTensor and PyTorch.

Each is the tutorial's step: the RBM's k Gibbs steps from the persistent chain, the free-energy
cost with the chain's end held constant, SGD, the chain update and the pseudo-likelihood
monitor with its bit counter; the dA's binomial corruption, tied-weight reconstruction and
cross-entropy. Both are written as a careful user would, with symdl's sampling tricks: the noise in
float32 from NumPy's generator, all of the chain's draws in one call ahead of the loop, each
bernoulli(sigmoid(z)) as logit(u) < z (on C the noise op is symdl's `NoiseBlock`, which such a user
would write once: PyTensor's own uniform there draws float64 and casts, ~5x slower), the k Gibbs steps
unrolled in a Python loop where symdl unrolls them (C); the cross-entropy from the logits; PyTorch's RBM gradient in
closed form under no_grad.
"""

from __future__ import annotations

import numpy as np

N_IN = 784


def rbm_init(hidden: int) -> list[np.ndarray]:
    bound = 4 * np.sqrt(6.0 / (N_IN + hidden))
    w = np.random.RandomState(123).uniform(-bound, bound, (N_IN, hidden)).astype(np.float32)
    return [w, np.zeros(hidden, np.float32), np.zeros(N_IN, np.float32)]


def hand_rbm(spec, xs, mode, backend):
    import pytensor
    import pytensor.tensor as pt
    from bench_workers import minibatch

    from symdl.lowering.backends import BACKENDS
    from symdl.lowering.noise import Segment, standard_noise

    W, hbias, vbias = (pytensor.shared(v) for v in rbm_init(spec.hidden))
    chain = pytensor.shared(np.zeros((spec.batch, spec.hidden), np.float32))
    bit = pytensor.shared(np.int64(0))
    rng = pt.random.shared_rng(seed=123)
    index, x = pt.lscalar("index"), pt.matrix("x", dtype="float32")

    def free_energy(v):
        return -(v @ vbias) - pt.sum(pt.softplus(v @ W + hbias), axis=1)

    # symdl's tricks on this backend: the chain's draws in one call ahead of the loop (logistic noise on the
    # host: bernoulli(sigmoid(a)) is logit(u) < a), the loop unrolled where symdl unrolls it
    host, kind = BACKENDS[backend].runs_python, "logistic" if BACKENDS[backend].runs_python else "uniform"
    segments = [Segment(kind, (spec.batch, N_IN)), Segment(kind, (spec.batch, spec.hidden))]
    rng_next, (n_v, n_h) = standard_noise(rng, spec.k, segments, host)

    def bernoulli_sigmoid(noise, a):
        return pt.cast(noise < a if host else noise < pt.sigmoid(a), "float32")

    def gibbs_hvh(nv, nh, h):
        v = bernoulli_sigmoid(nv, h @ W.T + vbias)
        return v, bernoulli_sigmoid(nh, v @ W + hbias)

    if BACKENDS[backend].unroll:
        h = chain
        for t in range(spec.k):
            v, h = gibbs_hvh(n_v[t], n_h[t], h)
    else:
        v_samples, h_samples = pytensor.scan(gibbs_hvh, sequences=[n_v, n_h], outputs_info=[None, chain], return_updates=False)
        v, h = v_samples[-1], h_samples[-1]
    chain_end = v
    cost = pt.mean(free_energy(x)) - pt.mean(free_energy(chain_end))
    params = [W, hbias, vbias]
    grads = pytensor.grad(cost, params, consider_constant=[chain_end])
    xi = pt.round(x)
    flipped = pt.set_subtensor(xi[:, bit], 1 - xi[:, bit])
    monitor = pt.mean(N_IN * pt.log(pt.sigmoid(free_energy(flipped) - free_energy(xi))))
    updates = [(p, p - np.float32(spec.lr) * g) for p, g in zip(params, grads, strict=True)]
    updates += [(chain, h), (bit, (bit + 1) % N_IN), (rng, rng_next)]
    b = spec.batch
    return pytensor.function([index], monitor, updates=updates, givens={x: minibatch(xs, index, b, mode)}, mode=mode)


def hand_da(spec, xs, mode, backend):
    import pytensor
    import pytensor.tensor as pt
    from bench_workers import minibatch

    from symdl.lowering.backends import BACKENDS
    from symdl.lowering.noise import Segment, standard_noise

    W, b, b_prime = (pytensor.shared(v) for v in rbm_init(spec.hidden))
    rng = pt.random.shared_rng(seed=123)
    index, x = pt.lscalar("index"), pt.matrix("x", dtype="float32")
    g, (u,) = standard_noise(rng, None, [Segment("uniform", (spec.batch, N_IN))], BACKENDS[backend].runs_python)
    y = pt.sigmoid(pt.switch(u < np.float32(1 - spec.corruption), x, 0) @ W + b)
    a = y @ W.T + b_prime  # the cross-entropy from the logits, as a careful user writes it
    cost = pt.mean(-pt.sum(x * a - pt.softplus(a), axis=1))
    params = [W, b, b_prime]
    updates = [(p, p - np.float32(spec.lr) * gp) for p, gp in zip(params, pytensor.grad(cost, params), strict=True)] + [(rng, g)]
    n = spec.batch
    return pytensor.function([index], cost, updates=updates, givens={x: minibatch(xs, index, n, mode)}, mode=mode)


def torch_rbm(spec, xt):
    """PCD-k with the closed-form gradient under no_grad, into preallocated buffers."""
    import torch

    W, hbias, vbias = (torch.from_numpy(v) for v in rbm_init(spec.hidden))
    b, lr = spec.batch, spec.lr
    chain, u_v, u_h = torch.zeros(b, spec.hidden), torch.empty(b, N_IN), torch.empty(b, spec.hidden)
    state = {"bit": 0}
    F = torch.nn.functional

    def free_energy(v):
        return -(v @ vbias) - F.softplus(v @ W + hbias).sum(1)

    @torch.no_grad()
    def step(i: int) -> float:
        x, h = xt[i * b : (i + 1) * b], chain
        for _ in range(spec.k):
            v = (u_v.uniform_() < torch.sigmoid(torch.addmm(vbias, h, W.T))).float()
            h = (u_h.uniform_() < torch.sigmoid(torch.addmm(hbias, v, W))).float()
        ph_x, ph_v = torch.sigmoid(torch.addmm(hbias, x, W)), torch.sigmoid(torch.addmm(hbias, v, W))
        # d(mean F(x) - mean F(v)) / dW = (v^T ph_v - x^T ph_x) / b, and likewise for the biases
        W.addmm_(x.T, ph_x, alpha=lr / b).addmm_(v.T, ph_v, alpha=-lr / b)
        hbias.add_(ph_x.mean(0) - ph_v.mean(0), alpha=lr)
        vbias.add_(x.mean(0) - v.mean(0), alpha=lr)
        chain.copy_(h)
        xi = torch.round(x)
        flipped = xi.clone()
        flipped[:, state["bit"]] = 1 - xi[:, state["bit"]]
        monitor = (N_IN * F.logsigmoid(free_energy(flipped) - free_energy(xi))).mean()
        state["bit"] = (state["bit"] + 1) % N_IN
        return monitor.item()

    return step


def torch_da(spec, xt):
    import torch

    W, b, b_prime = (torch.from_numpy(v).requires_grad_() for v in rbm_init(spec.hidden))
    n, keep = spec.batch, 1 - spec.corruption
    opt, u = torch.optim.SGD([W, b, b_prime], lr=spec.lr, foreach=True), torch.empty(n, N_IN)
    F = torch.nn.functional

    def step(i: int) -> float:
        x = xt[i * n : (i + 1) * n]
        opt.zero_grad(set_to_none=False)
        y = torch.sigmoid(torch.addmm(b, x * (u.uniform_() < keep), W))
        cost = F.binary_cross_entropy_with_logits(torch.addmm(b_prime, y, W.T), x, reduction="sum") / n
        cost.backward()
        opt.step()
        return cost.item()

    return step


HAND = {"rbm": hand_rbm, "da": hand_da}
TORCH = {"rbm": torch_rbm, "da": torch_da}
