"""What a data set is, apart from how one is loaded (`data.py`) or what music adds (`music.py`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Splits = dict[str, dict[str, np.ndarray]]


class DataError(Exception):
    """A data set that cannot be loaded: one sentence and a hint to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Dataset:
    """Named splits ("train", "valid", "test"), each a dict of field arrays."""

    name: str
    splits: Splits

    def fields(self) -> list[str]:
        """Field names of the train split, e.g. ["x", "y"]."""
        return list(self.splits["train"])

    def limit_train(self, n: int) -> Dataset:
        """Keep the first `n` training examples (all when there are fewer); valid/test stay whole."""
        if n < 1:
            raise DataError(f"cannot limit the training set to {n} examples", "give a positive number of examples")
        train = {k: v[:n] for k, v in self.splits["train"].items()}
        return Dataset(self.name, {**self.splits, "train": train})
