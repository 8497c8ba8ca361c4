"""What a data set is, apart from how one is loaded (`data.py`) or what music adds (`music.py`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from symdl.diagnostics.catalog import error
from symdl.diagnostics.errors import Span, UserError

Splits = dict[str, dict[str, np.ndarray]]


class DataError(Exception):
    """A data set that cannot be loaded: the catalog's error `code` (its sentence filled in with `fields`)
    and a hint; the caller raises it at the data declaration's span (`located`)."""

    def __init__(self, code: str, hint: str = "", **fields: object) -> None:
        self.error = error(code, None, hint, **fields)
        super().__init__(self.error.message)
        self.code, self.message, self.hint = code, self.error.message, self.error.hint

    def located(self, span: Span) -> UserError:
        """The same error at `span`."""
        return replace(self.error, span=span)


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
            raise DataError("E640", "give a positive number of examples", n=n, what="examples")
        train = {k: v[:n] for k, v in self.splits["train"].items()}
        return Dataset(self.name, {**self.splits, "train": train})
