"""Tests of symdl.runtime.data: built-in data sets, data files and their errors."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from symdl.runtime.data import KNOWN_DATASETS, DataError, Dataset, load_dataset

FASHION = Path(os.environ.get("SYMDL_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist")


# ---------------------------------------------------------------- helpers


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes holding `array`."""
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def write_idx_dir(directory: Path, n_train: int, n_test: int, gz: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A Fashion-MNIST-shaped directory of tiny 2x3 images; returns the train images and labels."""
    rng = np.random.RandomState(1)
    directory.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images, labels = rng.randint(0, 256, (n, 2, 3)), rng.randint(0, 10, n)
        for what, array in (("images-idx3", images), ("labels-idx1", labels)):
            data = idx_bytes(array)
            path = directory / f"{prefix}-{what}-ubyte{ext}"
            path.write_bytes(gzip.compress(data) if gz else data)
        out[prefix] = (images, labels)
    return out["train"]


def mnist_splits() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Three (x, y) pairs in the mnist.pkl.gz layout: float x [N, 784], int y [N]."""
    rng = np.random.RandomState(2)
    return tuple((rng.rand(n, 784).astype(np.float32), rng.randint(0, 10, n).astype(np.int64)) for n in (30, 10, 20))


class Py2Pickler(pickle._Pickler):  # type: ignore[misc]
    """Writes bytes as Python 2 `str` opcodes, like the cPickle that made mnist.pkl.gz."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def save_py2_str(self, obj: bytes) -> None:
        head = pickle.SHORT_BINSTRING + bytes([len(obj)]) if len(obj) < 256 else pickle.BINSTRING + struct.pack("<i", len(obj))
        self.write(head + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj: object) -> bytes:
    import io

    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    # Python 2 numpy named its module numpy.core.multiarray.
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def assert_same_splits(dataset: Dataset, splits: tuple[tuple[np.ndarray, np.ndarray], ...]) -> None:
    for name, (x, y) in zip(("train", "valid", "test"), splits):
        got = dataset.splits[name]
        assert got["x"].dtype == np.float32 and got["y"].dtype == np.int32
        np.testing.assert_array_equal(got["x"], x)
        np.testing.assert_array_equal(got["y"], y)


# ---------------------------------------------------------------- Fashion-MNIST


@pytest.fixture(scope="module")
def fashion() -> Dataset:
    if not FASHION.is_dir():
        pytest.skip("dataset-fashion-mnist is not installed")
    return load_dataset("fashion-mnist")


def test_fashion_mnist_splits(fashion: Dataset) -> None:
    sizes = {name: split["x"].shape[0] for name, split in fashion.splits.items()}
    assert sizes == {"train": 50000, "valid": 10000, "test": 10000}
    assert fashion.fields() == ["x", "y"]
    for split in fashion.splits.values():
        x, y = split["x"], split["y"]
        assert x.shape[1:] == (784,) and x.dtype == np.float32
        assert y.shape == (x.shape[0],) and y.dtype == np.int32
        assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() == 1.0
        assert set(np.unique(y)) == set(range(10))
        assert not x.flags.writeable and not y.flags.writeable


def test_fashion_mnist_is_cached(fashion: Dataset) -> None:
    again = load_dataset("fashion-mnist")
    assert again.splits["train"]["x"] is fashion.splits["train"]["x"]


def test_fashion_mnist_valid_is_end_of_training_file(fashion: Dataset) -> None:
    # Loading the same directory by path gives the same split (valid = last 10000 of train).
    by_path = load_dataset("file", path=str(FASHION))
    np.testing.assert_array_equal(by_path.splits["valid"]["y"], fashion.splits["valid"]["y"])
    with gzip.open(FASHION / "train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    np.testing.assert_array_equal(fashion.splits["valid"]["y"], labels[50000:])


def test_fashion_mnist_missing_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SYMDL_FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError) as err:
        load_dataset("fashion-mnist")
    assert "apt-get install dataset-fashion-mnist" in err.value.hint and "--data" in err.value.hint


def test_fashion_mnist_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    images, labels = write_idx_dir(tmp_path, 10005, 7)
    monkeypatch.setenv("SYMDL_FASHION_MNIST_DIR", str(tmp_path))
    data = load_dataset("fashion-mnist")
    assert [data.splits[s]["x"].shape for s in ("train", "valid", "test")] == [(5, 6), (10000, 6), (7, 6)]
    np.testing.assert_allclose(data.splits["train"]["x"], images[:5].reshape(5, 6) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.splits["valid"]["y"], labels[5:])


# ---------------------------------------------------------------- IDX files


@pytest.mark.parametrize("gz", [True, False])
def test_idx_directory_by_path(tmp_path: Path, gz: bool) -> None:
    write_idx_dir(tmp_path, 10003, 4, gz=gz)
    data = load_dataset("file", path=str(tmp_path))
    assert {s: d["y"].shape[0] for s, d in data.splits.items()} == {"train": 3, "valid": 10000, "test": 4}


def test_idx_single_file(tmp_path: Path) -> None:
    _, labels = write_idx_dir(tmp_path, 12, 3, gz=False)
    data = load_dataset("file", path=str(tmp_path / "train-images-idx3-ubyte"))
    assert list(data.splits) == ["train"]
    np.testing.assert_array_equal(data.splits["train"]["y"], labels)


def test_idx_too_few_training_images(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, 50, 5)
    with pytest.raises(DataError, match="only 50 training images"):
        load_dataset("file", path=str(tmp_path))


def test_idx_bad_magic(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, 10001, 2)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x01\x02\x03\x04hello"))
    with pytest.raises(DataError, match="IDX magic") as err:
        load_dataset("file", path=str(tmp_path))
    assert err.value.hint


def test_idx_wrong_size(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, 10001, 2)
    data = idx_bytes(np.zeros((2, 2, 3)))[:-1]
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(data))
    with pytest.raises(DataError, match="bytes of data"):
        load_dataset("file", path=str(tmp_path))


def test_idx_truncated_gzip(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, 10001, 2)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="cannot read") as err:
        load_dataset("file", path=str(tmp_path))
    assert "truncated" in err.value.hint


def test_idx_count_mismatch(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, 10001, 2)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(3))))
    with pytest.raises(DataError, match="2 images but .* 3 labels"):
        load_dataset("file", path=str(tmp_path))


def test_idx_missing_file(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, 10001, 2)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="no file t10k-labels-idx1-ubyte"):
        load_dataset("file", path=str(tmp_path))


# ---------------------------------------------------------------- pickles


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_mnist_pickle_round_trip(tmp_path: Path, protocol: int) -> None:
    splits = mnist_splits()
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(splits, protocol=protocol)))
    data = load_dataset("mnist", path=str(path))
    assert data.name == "mnist" and data.fields() == ["x", "y"]
    assert_same_splits(data, splits)


def test_python2_pickle_plain(tmp_path: Path) -> None:
    splits = mnist_splits()
    blob = py2_pickle(splits)
    assert b"numpy.core.multiarray" in blob and b"_codecs" not in blob
    path = tmp_path / "mnist.pkl"
    path.write_bytes(blob)
    assert_same_splits(load_dataset("file", path=str(path)), splits)


class Evil:
    """Unpickling this runs a shell command (if the unpickler lets it)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_malicious_pickle_is_refused(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "mnist.pkl.gz"
    x, y = np.zeros((2, 784)), np.zeros(2, np.int64)
    path.write_bytes(gzip.compress(pickle.dumps(((x, y), (x, Evil(marker)), (x, y)), protocol=protocol)))
    with pytest.raises(DataError, match="may not use") as err:
        load_dataset("mnist", path=str(path))
    assert "system" in err.value.message and ".npz" in err.value.hint
    assert not marker.exists()


def test_pickle_builtins_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(b"cbuiltins\neval\n(S'1+1'\ntR.")
    with pytest.raises(DataError, match="builtins.eval"):
        load_dataset("file", path=str(path))


def test_pickle_wrong_layout(tmp_path: Path) -> None:
    path = tmp_path / "two.pkl"
    x, y = np.zeros((2, 4)), np.zeros(2)
    path.write_bytes(pickle.dumps(((x, y), (x, y))))
    with pytest.raises(DataError, match="three splits"):
        load_dataset("file", path=str(path))
    path.write_bytes(pickle.dumps(((x, y), (x, y), (x.ravel(), y))))
    with pytest.raises(DataError, match="split 'test'.*shape"):
        load_dataset("file", path=str(path))
    path.write_bytes(pickle.dumps(((x, y), (x, np.zeros(3)), (x, y))))
    with pytest.raises(DataError, match="split 'valid'.*different numbers of examples"):
        load_dataset("file", path=str(path))


def test_pickle_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "mnist.pkl.gz"
    blob = gzip.compress(pickle.dumps(mnist_splits()))
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("mnist", path=str(path))
    path.write_bytes(gzip.compress(pickle.dumps(mnist_splits())[:500]))
    with pytest.raises(DataError, match="cannot unpickle"):
        load_dataset("mnist", path=str(path))


# ---------------------------------------------------------------- npz


def test_npz_round_trip(tmp_path: Path) -> None:
    rng = np.random.RandomState(3)
    arrays = {
        "train_x": rng.rand(6, 3),
        "train_y": np.arange(6),
        "test_x": rng.rand(2, 3),
        "test_y": np.arange(2),
        "train_mask_bits": np.ones(6, bool),
    }
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    data = load_dataset("file", path=str(path))
    assert set(data.splits) == {"train", "test"}
    assert data.fields() == ["x", "y", "mask_bits"]
    assert data.splits["train"]["x"].dtype == np.float32 and data.splits["train"]["y"].dtype == np.int32
    assert data.splits["train"]["mask_bits"].dtype == bool
    np.testing.assert_allclose(data.splits["test"]["x"], arrays["test_x"], rtol=1e-6)


def test_npz_without_train_x(tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, valid_x=np.zeros((2, 2)), inputs=np.zeros(2))
    with pytest.raises(DataError, match=r"no array 'train_x' \(found: inputs, valid_x\)"):
        load_dataset("file", path=str(path))


def test_npz_bad_names_and_lengths(tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, train_x=np.zeros((2, 2)), weights=np.zeros(2))
    with pytest.raises(DataError, match="'weights'.*<split>_<field>"):
        load_dataset("file", path=str(path))
    np.savez(path, train_x=np.zeros((2, 2)), train_y=np.zeros(3))
    with pytest.raises(DataError, match="different numbers of examples"):
        load_dataset("file", path=str(path))


def test_npz_corrupt_and_object_arrays(tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("file", path=str(path))
    np.savez(path, train_x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("file", path=str(path))


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("file", path=str(tmp_path / "absent.npz"))
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("file", path=str(tmp_path / "absent.csv"))
    (tmp_path / "data.csv").write_text("1,2\n")
    with pytest.raises(DataError, match="cannot tell the format"):
        load_dataset("file", path=str(tmp_path / "data.csv"))
    with pytest.raises(DataError, match="no file was given"):
        load_dataset("mnist")


# ---------------------------------------------------------------- generators


def test_gaussian_clouds_match_seed() -> None:
    data = load_dataset("gaussian_clouds", {"n": 50, "seed": 7})
    rng = np.random.RandomState(7)
    y = rng.randint(0, 2, 50)
    means = np.array([[-1, 1], [-1, 1]])
    cov = rng.random_sample((2, 2)) + 1
    x0 = rng.randn(50) * cov[0, y] + means[0, y]
    x1 = rng.randn(50) * cov[1, y] + means[1, y]
    train = data.splits["train"]
    assert train["x"].shape == (50, 2) and train["x"].dtype == np.float32
    assert train["y"].shape == (50,) and train["y"].dtype == np.float32
    np.testing.assert_allclose(train["x"], np.stack([x0, x1], axis=1), rtol=1e-6)
    np.testing.assert_array_equal(train["y"], y)
    assert data.splits["valid"]["x"] is train["x"]


def test_gaussian_clouds_defaults() -> None:
    data = load_dataset("gaussian_clouds")
    assert data.splits["train"]["x"].shape == (1000, 2)
    assert set(np.unique(data.splits["train"]["y"])) == {0.0, 1.0}
    np.testing.assert_array_equal(data.splits["train"]["x"], load_dataset("gaussian_clouds", {"seed": 0}).splits["train"]["x"])


def test_line() -> None:
    train = load_dataset("line").splits["train"]
    np.testing.assert_array_equal(train["x"], [[1], [2], [3], [4]])
    np.testing.assert_array_equal(train["y"], [[3], [5], [7], [9]])
    assert train["x"].dtype == train["y"].dtype == np.float32
    other = load_dataset("line", {"n": 7}).splits
    np.testing.assert_allclose(other["train"]["x"][:, 0], np.linspace(-1.5, 1.5, 7))
    np.testing.assert_allclose(other["valid"]["y"], 2 * other["valid"]["x"] + 1)


def test_unknown_kind_and_options() -> None:
    assert {"fashion-mnist", "gaussian_clouds", "line"} <= set(KNOWN_DATASETS)
    with pytest.raises(DataError, match="unknown dataset 'fashion_mnist'") as err:
        load_dataset("fashion_mnist")
    assert err.value.hint == "did you mean 'fashion-mnist'?"
    with pytest.raises(DataError, match="unknown option 'seeds'") as err:
        load_dataset("gaussian_clouds", {"seeds": 1})
    assert err.value.hint == "did you mean 'seed'?"
    with pytest.raises(DataError, match="unknown option 'n'"):
        load_dataset("fashion-mnist", {"n": 10})
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(DataError, match="positive integer"):
            load_dataset("line", {"n": bad})
    with pytest.raises(DataError, match="'seed' of data set 'gaussian_clouds' must be a non-negative integer, got -1"):
        load_dataset("gaussian_clouds", {"seed": -1})


# ---------------------------------------------------------------- Dataset


def test_limit_train() -> None:
    data = load_dataset("gaussian_clouds", {"n": 100})
    small = data.limit_train(10)
    assert small.splits["train"]["x"].shape == (10, 2) and small.splits["train"]["y"].shape == (10,)
    np.testing.assert_array_equal(small.splits["train"]["x"], data.splits["train"]["x"][:10])
    assert small.splits["valid"]["x"].shape == (100, 2)
    assert data.splits["train"]["x"].shape == (100, 2)  # the original is untouched
    assert data.limit_train(1000).splits["train"]["x"].shape == (100, 2)
    with pytest.raises(DataError):
        data.limit_train(0)


def test_arrays_are_read_only() -> None:
    x = load_dataset("line").splits["train"]["x"]
    with pytest.raises(ValueError):
        x[0, 0] = 5.0


# ---------------------------------------------------------------- each loading problem has its own code


def _write(path: Path, content: object) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.savez(path, **content)
    return path


LOADING_PROBLEMS = [
    ("empty.npz", {"train_x": np.zeros((0, 2))}, "E611", "split 'train' in"),
    ("a-images-idx3-ubyte", b"\x00\x00\x08\x03\x00", "E616", "IDX header"),
    ("train-images-idx3-ubyte", idx_bytes(np.zeros(3)), "E619", "not an IDX image/label pair"),
    ("train-pixels-idx3-ubyte", idx_bytes(np.zeros((2, 2, 2))), "E624", "cannot find the labels file"),
    ("layout.pkl", pickle.dumps(((1, 2), (1, 2), (1, 2))), "E628", "split 'train' of"),
]


@pytest.mark.parametrize("name, content, code, words", LOADING_PROBLEMS, ids=[c[2] for c in LOADING_PROBLEMS])
def test_a_loading_problem_has_its_code(tmp_path: Path, name: str, content: object, code: str, words: str) -> None:
    if code == "E619":
        _write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(3)))
    path = _write(tmp_path / name, content)
    with pytest.raises(DataError) as err:
        load_dataset("file", path=str(path))
    assert err.value.code == code and words in err.value.message and err.value.hint


def test_a_directory_that_cannot_be_listed(tmp_path: Path) -> None:
    from symdl.runtime.data import _load_idx_directory

    with pytest.raises(DataError) as err:
        _load_idx_directory(tmp_path / "absent")
    assert err.value.code == "E623" and "cannot list data directory" in err.value.message


def test_music_problems_have_their_codes(tmp_path: Path, monkeypatch) -> None:
    from symdl.runtime import music

    with pytest.raises(DataError) as err:
        music.midi_files(tmp_path)
    assert err.value.code == "E643" and "holds no .mid or .midi file" in err.value.message
    monkeypatch.setitem(sys.modules, "music21", None)  # as if music21 were not installed
    with pytest.raises(DataError) as err:
        music._parse_chorales(1.0)
    assert err.value.code == "E642" and "pip install" in err.value.hint


def test_a_data_error_is_raised_at_the_declaration() -> None:
    from symdl.diagnostics.errors import Source, Span

    span = Span(Source("m.sdl", 'data d = dataset("line")\n'), 1, 1, 1, 5)
    located = DataError("E613", "check the path", path="x.npz").located(span)
    assert located.span is span and located.code == "E613" and located.message == "data file 'x.npz' does not exist"
