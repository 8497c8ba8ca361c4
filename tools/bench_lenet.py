"""LeNet5 in tools/bench.py, by hand: the training step in PyTensor (im2col with tensordot, as
PYTENSOR3.md measured it) and in PyTorch, and each conv layer's forward + backward alone.

The hand-written im2col is the fast layout a PyTensor user finds by measuring (channel-major
patches, one GEMM), written here independently of symdl's lowering, which also copies the image
channel-major first (so the patches are stacked in order), uses the filters transposed (the filter
gradient is then patches @ g.T) and pools the channel-major output in two elementwise passes with the
max's mask gradient (symdl/lowering/conv.py).
"""

from __future__ import annotations

import numpy as np

# (image [b, c, h, w], filters [o, c, kh, kw], whether the step needs the gradient of the image)
LAYERS = {"conv0": ((500, 1, 28, 28), (20, 1, 5, 5), False), "conv1": ((500, 20, 12, 12), (50, 20, 5, 5), True)}


def lenet_gemms(n_hidden: int, n_out: int) -> list[tuple[int, int, int]]:
    """The step's matrix products (m, k, n) as symdl's im2col makes them: per conv layer the forward
    [o, c*kh*kw] @ [c*kh*kw, b*oh*ow], the filter gradient patches @ g.T and, where the image needs one,
    its gradient's [c*kh*kw, o] @ [o, b*oh*ow]; then the hidden and output layers' three products each."""
    out = []
    for (b, c, h, w), (o, _, kh, kw), image_grad in LAYERS.values():
        k, n = c * kh * kw, b * (h - kh + 1) * (w - kw + 1)
        out += [(o, k, n), (k, n, o)] + ([(k, o, n)] if image_grad else [])
    flat = o * ((h - kh + 1) // 2) * ((w - kw + 1) // 2)  # the last conv layer's output, pooled 2x2
    for n_in, n in ((flat, n_hidden), (n_hidden, n_out)):
        out += [(b, n_in, n), (n_in, b, n), (b, n, n_in)]
    return out


def lenet_init() -> list[np.ndarray]:
    """W, b of both conv layers, the hidden layer and the output, as lenet.sdl initialises them."""
    rng = np.random.RandomState(23455)
    shapes = [(20, 1, 5, 5), (50, 20, 5, 5)]
    params = []
    for o, c, kh, kw in shapes:
        bound = np.sqrt(6.0 / (c * kh * kw + o * kh * kw / 4))
        params += [rng.uniform(-bound, bound, (o, c, kh, kw)).astype(np.float32), np.zeros(o, np.float32)]
    bound = np.sqrt(6.0 / (800 + 500))
    params += [rng.uniform(-bound, bound, (800, 500)).astype(np.float32), np.zeros(500, np.float32)]
    return params + [np.zeros((500, 10), np.float32), np.zeros(10, np.float32)]


def hand_conv(x, w):
    """im2col as a PyTensor user who measured it writes it: the image channel-major [c, b, h, w], its
    kh*kw shifted views stacked to patches [c*kh*kw, b*oh*ow], one product with the flipped filters."""
    import pytensor.tensor as pt

    o, c, kh, kw = w.type.shape
    b, oh, ow = x.type.shape[0], x.type.shape[2] - kh + 1, x.type.shape[3] - kw + 1
    image = x.dimshuffle(1, 0, 2, 3)
    patches = pt.stack([image[:, :, i : i + oh, j : j + ow] for i in range(kh) for j in range(kw)], axis=1)
    flipped = w[:, :, ::-1, ::-1].reshape((o, c * kh * kw))
    return pt.dot(flipped, patches.reshape((c * kh * kw, b * oh * ow))).reshape((o, b, oh, ow)).dimshuffle(1, 0, 2, 3)


def hand_pool(x):
    b, c, h, w = x.type.shape
    return x.reshape((b, c, h // 2, 2, w // 2, 2)).max(axis=(3, 5))


def hand_lenet(spec, xs, ys, mode):
    import pytensor
    import pytensor.tensor as pt
    from bench_workers import minibatch

    params = [pytensor.shared(v, shape=v.shape) for v in lenet_init()]
    index, x, y = pt.lscalar("index"), pt.tensor("x", dtype="float32", shape=(spec.batch, 784)), pt.ivector("y")
    h = x.reshape((spec.batch, 1, 28, 28))
    for w, b in (params[0:2], params[2:4]):
        h = pt.tanh(hand_pool(hand_conv(h, w)) + b.dimshuffle("x", 0, "x", "x"))
    h = pt.tanh(h.flatten(2) @ params[4] + params[5])
    cost = -pt.mean(pt.special.log_softmax(h @ params[6] + params[7], axis=1)[pt.arange(spec.batch), y])
    updates = [(p, p - np.float32(spec.lr) * g) for p, g in zip(params, pytensor.grad(cost, params), strict=True)]
    n = spec.batch
    givens = {x: minibatch(xs, index, n, mode), y: minibatch(ys, index, n, mode)}
    return pytensor.function([index], cost, updates=updates, givens=givens, mode=mode)


def torch_lenet(spec, xt, yt):
    import torch
    import torch.nn.functional as F

    params = [torch.from_numpy(v).requires_grad_() for v in lenet_init()]
    n, opt = spec.batch, torch.optim.SGD(params, lr=spec.lr, foreach=True)

    def step(i: int) -> float:
        opt.zero_grad(set_to_none=False)
        h = xt[i * n : (i + 1) * n].reshape(n, 1, 28, 28)
        for w, b in (params[0:2], params[2:4]):
            h = torch.tanh(F.max_pool2d(F.conv2d(h, w), 2) + b.view(1, -1, 1, 1))
        h = torch.tanh(torch.addmm(params[5], h.flatten(1), params[4]))
        cost = F.cross_entropy(torch.addmm(params[7], h, params[6]), yt[i * n : (i + 1) * n])
        cost.backward()
        opt.step()
        return cost.item()

    return step


def layer_steps(backend_mode, threads: int) -> dict[str, dict[str, object]]:
    """Per conv layer, forward + backward (filters, and the image where training needs it): symdl's
    lowering, the hand-written im2col and PyTorch, each a zero-argument callable."""
    import pytensor

    from symdl.lowering.conv import conv2d

    rng = np.random.default_rng(0)
    out: dict[str, dict[str, object]] = {}
    for name, (xs, ws, image_grad) in LAYERS.items():
        x = pytensor.shared(rng.random(xs, dtype=np.float32), shape=xs)
        w = pytensor.shared(rng.random(ws, dtype=np.float32), shape=ws)
        g = rng.random((xs[0], ws[0], xs[2] - ws[2] + 1, xs[3] - ws[3] + 1), dtype=np.float32)
        wrt = [w, x] if image_grad else [w]
        out[name] = {impl: _fwd_bwd(f(x, w), g, wrt, backend_mode) for impl, f in (("symdl", conv2d), ("hand", hand_conv))}
        out[name]["torch"] = _torch_fwd_bwd(x.get_value(), w.get_value(), g, image_grad, threads)
    return out


def _fwd_bwd(out, g, wrt, mode):
    import pytensor

    fn = pytensor.function([], pytensor.grad((out * g).sum(), wrt), mode=mode)
    return lambda _i=0: fn()


def _torch_fwd_bwd(x, w, g, image_grad, threads):
    import torch

    torch.set_num_threads(threads)
    xt, wt, gt = torch.from_numpy(x).requires_grad_(image_grad), torch.from_numpy(w).requires_grad_(), torch.from_numpy(g)
    wrt = (wt, xt) if image_grad else (wt,)
    return lambda _i=0: torch.autograd.grad((torch.nn.functional.conv2d(xt, wt) * gt).sum(), wrt)
