"""Pictures a run leaves in its directory: tiled filters and samples (the tutorial's tile_raster_images)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np


def square_side(size: int) -> int | None:
    """The side of a square image of `size` pixels, or None."""
    side = math.isqrt(size)
    return side if side * side == size else None


def tile(images: np.ndarray, rows: int, cols: int, scale: bool = True) -> np.ndarray:
    """Images (n, h, w) on a rows x cols grid with 1-pixel black gaps; each scaled to [0, 1] when `scale`."""
    n, h, w = images.shape
    canvas = np.zeros((rows * (h + 1) - 1, cols * (w + 1) - 1))
    for k in range(min(n, rows * cols)):
        img = images[k].astype(np.float64)
        if scale:
            low, high = img.min(), img.max()
            img = (img - low) / (high - low + 1e-8)
        r, c = divmod(k, cols)
        canvas[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = img
    return canvas


def filters_picture(weights: np.ndarray, count: int = 100) -> np.ndarray | None:
    """The first `count` filters as images: columns of a (pixels x units) matrix as squares, or conv
    filters (out, channels, kh, kw) by their first channel; None for any other shape."""
    if weights.ndim == 4:  # small kernels (5x5) shown 4x larger, each pixel a 4x4 block
        images = np.kron(weights[:count, 0], np.ones((4, 4)))
    elif weights.ndim == 2 and square_side(weights.shape[0]):
        side = square_side(weights.shape[0])
        images = weights[:, :count].T.reshape(-1, side, side)
    else:
        return None
    cols = math.ceil(math.sqrt(len(images)))
    return tile(images, math.ceil(len(images) / cols), cols)


def save_picture(path: Path, canvas: np.ndarray) -> None:
    """A grey-scale PNG, written atomically (a reader never sees half a picture)."""
    import matplotlib.image

    tmp = path.with_name(f".{path.name}.tmp.png")
    matplotlib.image.imsave(tmp, np.clip(canvas, 0, 1), cmap="gray", vmin=0, vmax=1)
    os.replace(tmp, path)
