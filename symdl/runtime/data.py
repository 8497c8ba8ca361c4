"""Data sets a model trains on: built-in generators and data files.

Every problem with a data file is raised as `DataError(code, hint, **fields)`, a catalog error; the
caller attaches the source span of the `data` declaration. Arrays handed out
are read-only, because loaded data sets are cached and shared between callers.
"""

from __future__ import annotations

import functools
import gzip
import importlib
import io
import math
import os
import pickle
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from symdl.diagnostics.errors import did_you_mean
from symdl.runtime.dataset import DataError, Dataset, Splits

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_ENV = "SYMDL_FASHION_MNIST_DIR"
FASHION_HINT = "install it with `sudo apt-get install dataset-fashion-mnist`, or pass --data PATH"
IDX_FILES = {"train": "train-{}-idx{}-ubyte", "test": "t10k-{}-idx{}-ubyte"}
VALID_SIZE = 10000


def _frozen(array: np.ndarray) -> np.ndarray:
    """Normalise to the dtypes models use (float32, int32) and make read-only."""
    if np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32, copy=False)
    elif np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.int32, copy=False)
    array.setflags(write=False)
    return array


def _check_split(split: str, fields: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
    """All fields of a split must have the same number of examples."""
    for name, array in fields.items():
        if array.dtype.kind not in "biuf":  # strings, objects, complex numbers: nothing a model can be fed
            raise DataError(
                "E610", "store data as integer, float or boolean arrays", field=name, split=split, source=source, dtype=array.dtype
            )
    lengths = {k: (v.shape[0] if v.ndim else None) for k, v in fields.items()}
    if 0 in lengths.values():
        raise DataError("E611", "every split needs at least one example", split=split, source=source)
    if len(set(lengths.values())) > 1 or None in lengths.values():
        found = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        hint = "every field of a split needs one entry per example along its first axis"
        raise DataError("E612", hint, split=split, source=source, found=found)
    return {k: _frozen(v) for k, v in fields.items()}


def _dataset(name: str, splits: Splits, source: str, kind: type[Dataset] = Dataset) -> Dataset:
    return kind(name, {s: _check_split(s, f, source) for s, f in splits.items()})


def _read_bytes(path: Path) -> bytes:
    """A file's bytes, gunzipped when its name ends in .gz."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError("E613", "check the path passed with --data", path=path) from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError("E614", "the file is corrupt or truncated: download it again", path=path, reason=e) from None


# IDX type codes (third magic byte) and their big-endian element types.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file: magic 00 00 <type> <ndim>, ndim big-endian u32 sizes, data."""
    data = _read_bytes(path)
    hint = "this is not an IDX file, or it is truncated: download it again"
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataError("E615", hint, path=path)
    ndim, dtype = data[3], np.dtype(_IDX_TYPES[data[2]])
    head = 4 + 4 * ndim
    if len(data) < head:
        raise DataError("E616", hint, path=path)
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    expected = math.prod(shape) * dtype.itemsize  # Python's integers: sizes near 2**32 overflow numpy's
    if len(data) - head != expected:
        raise DataError("E617", hint, path=path, size=len(data) - head, shape=shape, expected=expected)
    return np.frombuffer(data, dtype, offset=head).reshape(shape)


def _idx_pair(images: Path, labels: Path) -> dict[str, np.ndarray]:
    """Images scaled to float32 [N, H*W] in [0, 1] and int32 labels [N]."""
    x, y = _read_idx(images), _read_idx(labels)
    if not x.size:
        raise DataError("E618", "download the data set again", path=images, shape=x.shape)
    if x.ndim < 2 or y.ndim != 1 or x.dtype != np.uint8:
        raise DataError("E619", "images need a ubyte IDX file of rank 3, labels one of rank 1", images=images, labels=labels)
    if x.shape[0] != y.shape[0]:
        hint = "the two files must come from the same data set"
        raise DataError("E620", hint, images=images, labels=labels, image_count=x.shape[0], label_count=y.shape[0])
    pixels = np.divide(x.reshape(x.shape[0], -1), np.float32(255), dtype=np.float32)
    return {"x": pixels, "y": y.astype(np.int32)}


def _idx_file(directory: Path, split: str, what: str) -> Path:
    """The IDX file for `split` in `directory`, gzipped or not."""
    stem = IDX_FILES[split].format(what, 3 if what == "images" else 1)
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    hint = "an IDX directory needs train-images, train-labels, t10k-images and t10k-labels files"
    raise DataError("E621", hint, directory=directory, file=stem)


def _hold_out(train: dict[str, np.ndarray]) -> Splits:
    """Split the last VALID_SIZE examples off as "valid" (as the MNIST tutorials do)."""
    cut = next(iter(train.values())).shape[0] - VALID_SIZE
    return {"train": {k: v[:cut] for k, v in train.items()}, "valid": {k: v[cut:] for k, v in train.items()}}


@functools.lru_cache(maxsize=4)
def _load_idx_dir(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> Splits:
    """Parse an IDX directory; `stamp` (names, sizes, mtimes) keys the cache so edited files are re-read."""
    del stamp
    train = _idx_pair(_idx_file(directory, "train", "images"), _idx_file(directory, "train", "labels"))
    if train["x"].shape[0] <= VALID_SIZE:
        hint = f"an IDX directory needs more than {VALID_SIZE}, the last {VALID_SIZE} become the validation set"
        raise DataError("E622", hint, directory=directory, count=train["x"].shape[0])
    test = _idx_pair(_idx_file(directory, "test", "images"), _idx_file(directory, "test", "labels"))
    splits = {**_hold_out(train), "test": test}
    return {s: _check_split(s, f, str(directory)) for s, f in splits.items()}


def _load_idx_directory(directory: Path) -> Splits:
    try:
        files = [(p.name, p.stat()) for p in sorted(directory.iterdir()) if p.is_file()]
    except OSError as e:
        raise DataError("E623", "check that it exists and is readable", directory=directory, reason=e.strerror) from None
    stamp = tuple((name, st.st_size, st.st_mtime_ns) for name, st in files)
    return _load_idx_dir(directory.resolve(), stamp)


def _load_idx_single(images: Path) -> Splits:
    """One IDX images file plus its labels file: train only, with valid held out when large."""
    labels = images.with_name(images.name.replace("images-idx3", "labels-idx1"))
    if labels == images:
        raise DataError("E624", "name it like '*-images-idx3-ubyte', or pass the directory", images=images)
    train = _idx_pair(images, labels)
    return _hold_out(train) if train["x"].shape[0] > 2 * VALID_SIZE else {"train": train}


# The only globals a pickle of numpy arrays needs (numpy 1.x and 2.x spellings).
_SAFE_GLOBALS = {
    (mod, name)
    for core in ("numpy.core", "numpy._core")
    for mod, name in ((f"{core}.multiarray", "_reconstruct"), (f"{core}.multiarray", "scalar"), (f"{core}.numeric", "_frombuffer"))
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and nothing else, so a data file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _SAFE_GLOBALS:
            raise DataError("E625", "only pickles of numpy arrays are read; save the data as .npz instead", name=f"{module}.{name}")
        # Pickles name numpy.core (numpy 1) or numpy._core (numpy 2); import whichever this numpy has.
        if hasattr(np, "_core"):
            module = module.replace("numpy.core.", "numpy._core.")
        else:
            module = module.replace("numpy._core.", "numpy.core.")
        return super().find_class(module, name)


def _unpickle(path: Path) -> object:
    data = _read_bytes(path)
    try:
        # latin1 reads Python 2 pickles (the tutorial's mnist.pkl.gz); Python 3 pickles are unaffected.
        return _ArrayUnpickler(io.BytesIO(data), encoding="latin1").load()
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - a malformed pickle fails in many ways; none may escape raw
        raise DataError("E626", "the file is corrupt or truncated", path=path, reason=f"{type(e).__name__}: {e}") from None


def _load_pickle(path: Path) -> Splits:
    """mnist.pkl.gz layout: ((train_x, train_y), (valid_x, valid_y), (test_x, test_y))."""
    hint = "expected a pickle of ((train_x, train_y), (valid_x, valid_y), (test_x, test_y)) as in mnist.pkl.gz"
    content = _unpickle(path)
    if not isinstance(content, (tuple, list)) or len(content) != 3:
        raise DataError("E627", hint, path=path)
    splits: Splits = {}
    for split, pair in zip(("train", "valid", "test"), content):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(isinstance(a, np.ndarray) for a in pair):
            raise DataError("E628", hint, split=split, path=path)
        x, y = pair
        if x.ndim != 2 or y.ndim != 1:
            raise DataError("E629", "x must be [examples, features] and y [examples]", split=split, path=path, x=x.shape, y=y.shape)
        splits[split] = {"x": x, "y": y}
    return splits


def _load_npz(path: Path) -> Splits:
    """Arrays named `<split>_<field>` go to splits[split][field]; train_x is required."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise DataError("E613", "check the path passed with --data", path=path) from None
    except Exception as e:  # noqa: BLE001 - zip, zlib and format errors all mean a bad file
        raise DataError("E630", "save it with numpy.savez, without object arrays", path=path, reason=e) from None
    found = ", ".join(sorted(arrays)) or "none"
    if "train_x" not in arrays:
        raise DataError("E631", "name arrays <split>_<field>, e.g. train_x, train_y", path=path, found=found)
    splits: Splits = {}
    for key, array in arrays.items():
        split, sep, field = key.partition("_")
        if not sep or not field:
            raise DataError("E632", "rename it, e.g. train_x or valid_y", key=key, path=path)
        splits.setdefault(split, {})[field] = array
    return {"train": splits.pop("train"), **splits}


def _gaussian_clouds(n: int, seed: int) -> Splits:
    """Seed 002's two 2-d Gaussian clouds, drawn in the seed's exact RNG order.

    The seed evaluates on its training set, so "valid" is the training data.
    """
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    means = np.array([[-1, 1], [-1, 1]])
    cov = rng.random_sample((2, 2)) + 1
    x = np.stack([rng.randn(n) * cov[0, y] + means[0, y], rng.randn(n) * cov[1, y] + means[1, y]], axis=1)
    train = {"x": x.astype(np.float32), "y": y.astype(np.float32)}
    return {"train": train, "valid": train}


def _line(n: int) -> Splits:
    """Seed 003's points on y = 2x + 1 (x = 1..4 for the seed's n = 4); "valid" is the training data."""
    x = np.arange(1, 5) if n == 4 else np.linspace(-1.5, 1.5, n)
    x = x.astype(np.float32).reshape(n, 1)
    train = {"x": x, "y": (2 * x + 1).astype(np.float32)}
    return {"train": train, "valid": train}


def _gaussian(dim: int, seed: int) -> Splits:
    """The HMC chapter's target: a `dim`-d Gaussian with mean `mu` and covariance `cov`, drawn in the
    tutorial's RNG order (mu = rand * 10; cov = symmetrised rand with a unit diagonal)."""
    rng = np.random.RandomState(seed)
    mu = rng.rand(dim) * 10
    cov = rng.rand(dim, dim)
    cov = (cov + cov.T) / 2.0
    cov[np.arange(dim), np.arange(dim)] = 1.0
    target = {"mu": mu.astype(np.float32), "cov": cov.astype(np.float32)}
    return {"train": target}


def _fashion_mnist() -> Splits:
    directory = Path(os.environ.get(FASHION_ENV) or FASHION_DIR)
    if not directory.is_dir():
        raise DataError("E633", FASHION_HINT, directory=directory)
    return _load_idx_directory(directory)


def _needs_path(kind: str) -> Callable[[], Splits]:
    def fail() -> Splits:
        raise DataError("E634", "pass --data PATH", kind=kind)

    return fail


@dataclass(frozen=True)
class DataKind:
    """One kind of data set, everything about it in one entry: its name, its options with their defaults,
    the fields it gives (None: known once a file is read), its loader and the class that wraps its splits."""

    name: str
    options: dict[str, float | int]
    fields: tuple[str, ...] | None
    load: Callable[..., Splits]
    dataset: type[Dataset] = Dataset


@dataclass(frozen=True)
class FileReader:
    """A data file format that is not one of the built-in ones: `matches(path)`, `read(path, **options)` with
    the declaration's values of the options it names."""

    matches: Callable[[Path], bool]
    read: Callable[..., Splits]
    dataset: type[Dataset] = Dataset
    options: tuple[str, ...] = ()


KINDS: dict[str, DataKind] = {}
READERS: list[FileReader] = []
PLUGINS = ("symdl.runtime.music",)  # modules that register more kinds and readers (the Bach chorales, MIDI files)


def register(entry: DataKind | FileReader) -> None:
    """Add a data-set kind or a file reader (a plug-in calls this when imported)."""
    if isinstance(entry, DataKind):
        KINDS[entry.name] = entry
    else:
        READERS.append(entry)


for _kind in (
    DataKind("fashion-mnist", {}, ("x", "y"), _fashion_mnist),
    DataKind("mnist", {}, ("x", "y"), _needs_path("mnist")),
    DataKind("file", {"step": 1.0}, None, _needs_path("file")),  # step: the time grid of MIDI files, in quarter notes
    DataKind("gaussian_clouds", {"n": 1000, "seed": 0}, ("x", "y"), _gaussian_clouds),
    DataKind("line", {"n": 4}, ("x", "y"), _line),
    DataKind("gaussian", {"dim": 5, "seed": 123}, ("mu", "cov"), _gaussian),
):
    register(_kind)
for _plugin in PLUGINS:
    importlib.import_module(_plugin)
KNOWN_DATASETS: tuple[str, ...] = tuple(KINDS)  # the kinds registered at import (built-in and plug-ins)


def _options(kind: str, options: dict[str, object], defaults: dict[str, float]) -> dict[str, float]:
    """Check option names and values against the kind's defaults."""
    for name, value in options.items():
        if name not in defaults:
            known = ", ".join(defaults) or "none"
            hint = did_you_mean(name, tuple(defaults)) or f"options of '{kind}': {known}"
            raise DataError("E635", hint, name=name, kind=kind)
        if isinstance(defaults[name], float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise DataError("E636", f"write e.g. {name}={defaults[name]}", name=name, kind=kind, value=repr(value))
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "seed" else 1):
            code = "E638" if name == "seed" else "E637"
            raise DataError(code, f"write e.g. {name}={defaults[name]}", name=name, kind=kind, value=repr(value))
    return {**defaults, **options}  # type: ignore[dict-item]


def _load_path(path: Path, options: dict[str, object]) -> tuple[Splits, type[Dataset]]:
    """Pick the file format from the file name (a plug-in's reader first); the kind's options go to a plug-in's reader."""
    name = path.name.lower()
    reader = next((r for r in READERS if path.exists() and r.matches(path)), None)
    if reader is not None:
        return reader.read(path, **{k: options[k] for k in reader.options if k in options}), reader.dataset
    if path.is_dir():
        return _load_idx_directory(path), Dataset
    if name.endswith((".pkl", ".pkl.gz", ".pickle", ".pickle.gz")):
        return _load_pickle(path), Dataset
    if name.endswith(".npz"):
        return _load_npz(path), Dataset
    if "-idx" in name:
        return _load_idx_single(path), Dataset
    if not path.exists():
        raise DataError("E613", "check the path passed with --data", path=path)
    raise DataError("E639", "use .pkl/.pkl.gz (mnist.pkl.gz layout), .npz, an IDX file or a directory of IDX files", path=path)


def load_dataset(kind: str, options: dict[str, object] | None = None, path: str | None = None) -> Dataset:
    """Load data set `kind` with `options`; a `path` replaces the built-in source by that file.

    With a path the format comes from the file name, and the kind's options are checked and handed to a
    plug-in's reader (a MIDI folder read on the declaration's `step`); a built-in format uses none.
    """
    if kind not in KINDS:
        raise DataError("E206", did_you_mean(kind, list(KINDS)) or f"known: {', '.join(KINDS)}", name=kind)
    entry = KINDS[kind]
    chosen = _options(kind, dict(options or {}), entry.options)
    if path is not None:
        splits, wrapper = _load_path(Path(path).expanduser(), chosen)
        return _dataset(kind, splits, path, wrapper)
    return _dataset(kind, entry.load(**chosen), kind, entry.dataset)
