"""Hostile input gives a located user error, never a Python exception."""

import contextlib
import gzip
import io
import json
import pickle
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symdl.cli.main import main
from symdl.runtime.data import DataError, load_dataset

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("junk", ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\u2028", "\u2029"])
def test_line_separators_in_a_comment_keep_lines_right(tmp_path, junk):
    path = tmp_path / "m.sdl"
    path.write_text(f"x = 1 # a{junk}b\n\ny = )\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "symdl", "check", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert f"{path}:3:5:" in run.stderr
    assert "Traceback" not in run.stderr


# ---- in-process: the CLI's entry function, as a user runs it ------------------------------------

LINEAR = (Path(__file__).resolve().parents[1] / "models" / "linear.sdl").read_text()
COST = "perf = sum((y - a) ** 2)"


def _symdl(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(list(argv))
    return status, err.getvalue()


def _check_text(tmp_path, text: str) -> tuple[int, str, Path]:
    path = tmp_path / "m.sdl"
    path.write_text(text, encoding="utf-8")
    status, err = _symdl("check", str(path))
    return status, err, path


HOSTILE_TEXTS = {
    "5000-digit literal": (LINEAR.replace("n = 4,", "n = " + "9" * 5000 + ","), "E112", 4),
    "dimension past i64": (LINEAR.replace("f32[n, 1]", "f32[18446744073709551617, 1]", 1), "E112", 8),
    "10 ** 400": (LINEAR.replace(COST, COST + " + 10 ** 400"), "E420", 15),
    "2 ** 10 ** 18 (not computed)": (LINEAR.replace(COST, COST + " + 2 ** 1000000000000000000"), "E420", 15),
    "float overflow": (LINEAR.replace(COST, COST + " + 10.0 ** 400"), "E420", 15),
    "zip of numbers": (LINEAR.replace(COST, COST + " + zip(3, 3)"), "E325", 15),
    "range of 10**12": (LINEAR + "for i in range(1000000000000):\n    q = i\n", "E308", 22),
    "120 nested ifs": (LINEAR + "".join(" " * i + "if true:\n" for i in range(120)) + " " * 120 + "q = 1\n", "E111", None),
    "1500 nested ifs (too long)": (LINEAR + "".join("\t" * i + "if true:\n" for i in range(1500)) + "q = 1\n", "E110", None),
    "10,000 brackets": (LINEAR + "q = " + "[" * 10000 + "]" * 10000 + "\n", "E111", 22),
    "10,000 unary minuses": (LINEAR + "q = " + "-" * 10000 + "1\n", "E111", 22),
    "10,000 + terms": (LINEAR + "q = " + "+".join(["1"] * 10000) + "\n", "E111", 22),
    "10,000 nested calls": (LINEAR + "q = " + "tanh(" * 10000 + "w" + ")" * 10000 + "\n", "E111", 22),
    "1 MB expression": (LINEAR + "q = " + "+".join(["x"] * 500_000) + "\n", "E110", 22),
    "200,000-char continued line": (LINEAR + "q = 1 \\\n" + " + 1" * 50_000 + "\n", "E111", 23),
}


@pytest.mark.parametrize("case", HOSTILE_TEXTS)
def test_hostile_text_gets_a_located_error(tmp_path, case):
    text, code, line = HOSTILE_TEXTS[case]
    status, err, path = _check_text(tmp_path, text)
    assert status == 2, err
    assert f"error[{code}]" in err
    assert f"{path}:{line if line else ''}" in err
    assert "internal error" not in err and "Traceback" not in err
    assert max(len(row) for row in err.splitlines()) < 400  # a long line is shown around the caret, not whole


def test_nesting_just_under_the_limit_still_checks(tmp_path):
    deep = LINEAR.replace(COST, COST + " + " + "+".join(["w"] * 90) + " + " + "-" * 90 + "w")
    nested = "".join(" " * i + "if true:\n" for i in range(40)) + " " * 40 + "q = 1\n"
    status, err, _ = _check_text(tmp_path, deep + nested)
    assert status == 0, err


def test_invalid_utf8_is_reported_at_its_line_and_column(tmp_path):
    path = tmp_path / "m.sdl"
    path.write_bytes(LINEAR.encode().replace(b"hyper n = 4", b"hyper n\xc3 = 4"))
    status, err = _symdl("check", str(path))
    assert status == 2
    assert f"{path}:4:8: error[E113]" in err and "0xc3" in err


HOSTILE_OVERRIDES = {
    "batch=0": ("logreg", "E307", "at least 1"),
    "filter=0": ("lenet", "E307", "at least 1"),
    "nkerns=[0, 50]": ("lenet", "E307", "at least 1"),
    "epochs=-1": ("logreg", "E307", "at least 0"),
    "patience=-1": ("logreg", "E307", "at least 0"),
    "seed=-1": ("logreg", "E309", "hyper seed"),
    "backend=7": ("logreg", "E501", "must be a string"),
    'backend="gpu"': ("logreg", "E506", "not a backend"),
    "lr=0.1\nepochs=3": ("logreg", "E504", "more than one line"),
    "k=0": ("rbm", "E307", "at least 1"),
}


@pytest.mark.parametrize("override", HOSTILE_OVERRIDES)
def test_hostile_override_gets_a_clear_error(override):
    model, code, words = HOSTILE_OVERRIDES[override]
    status, err = _symdl("check", str(MODELS / f"{model}.sdl"), "--set", override)
    assert status == 2, err
    assert f"error[{code}]" in err and words in err
    assert "internal error" not in err


# ---- data files: every damaged file is a DataError that names it -------------------------------


def _idx(path: Path, dims: list[int], payload: bytes = b"") -> Path:
    path.write_bytes(bytes([0, 0, 0x08, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload)
    return path


def _midi(path: Path, patch) -> Path:
    mido = pytest.importorskip("mido")
    song = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    song.tracks.append(track)
    track.append(mido.MetaMessage("key_signature", key="C", time=0))
    track.append(mido.Message("note_on", note=60, velocity=64, time=0))
    track.append(mido.Message("note_off", note=60, velocity=64, time=480))
    song.save(path)
    path.write_bytes(patch(bytearray(path.read_bytes())))
    return path


def _zero_ticks(raw: bytearray) -> bytes:
    raw[12:14] = b"\0\0"  # the header's ticks per beat
    return bytes(raw)


def _bad_key(raw: bytearray) -> bytes:
    raw[raw.index(b"\xff\x59\x02") + 3] = 100  # 100 sharps
    return bytes(raw)


def _npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def _gz_pickle(path: Path, value: object, cut: float = 1.0) -> Path:
    data = gzip.compress(pickle.dumps(value))
    path.write_bytes(data[: int(len(data) * cut)])
    return path


GOOD = {"train_x": np.zeros((10, 4), np.float32), "train_y": np.zeros(10, np.int32)}
DATA_FILES = {
    "IDX sizes that overflow": (
        lambda d: (
            _idx(d / "a-images-idx3-ubyte", [2**31, 28, 28]) and _idx(d / "a-labels-idx1-ubyte", [2**31]) and d / "a-images-idx3-ubyte"
        ),
        "fashion-mnist",
        "needs",
    ),
    "IDX sizes past 2**64": (
        lambda d: (
            _idx(d / "b-images-idx3-ubyte", [2**32 - 1] * 3) and _idx(d / "b-labels-idx1-ubyte", [1], b"\0") and d / "b-images-idx3-ubyte"
        ),
        "fashion-mnist",
        "needs",
    ),
    "IDX with no images": (
        lambda d: _idx(d / "c-images-idx3-ubyte", [0, 28, 28]) and _idx(d / "c-labels-idx1-ubyte", [0]) and d / "c-images-idx3-ubyte",
        "fashion-mnist",
        "no images",
    ),
    "MIDI with zero ticks per beat": (lambda d: _midi(d / "z.mid", _zero_ticks), "bach-chorales", "0 ticks per beat"),
    "MIDI with 100 sharps": (lambda d: _midi(d / "k.mid", _bad_key), "bach-chorales", "100 sharps"),
    "MIDI truncated": (lambda d: _midi(d / "t.mid", lambda raw: bytes(raw[:20])), "bach-chorales", "cannot read MIDI"),
    ".npz truncated": (
        lambda d: (d / "t.npz").write_bytes(_npz(d / "g.npz", **GOOD).read_bytes()[:200]) and d / "t.npz",
        "fashion-mnist",
        "as .npz",
    ),
    ".npz of text": (lambda d: (d / "x.npz").write_text("hello") and d / "x.npz", "fashion-mnist", "as .npz"),
    ".npz of strings": (
        lambda d: _npz(d / "s.npz", train_x=np.array(["a", "b"]), train_y=np.array([1, 2])),
        "fashion-mnist",
        "not numbers",
    ),
    ".npz of complex numbers": (
        lambda d: _npz(d / "c.npz", train_x=np.zeros((3, 2), np.complex64), train_y=np.zeros(3)),
        "fashion-mnist",
        "not numbers",
    ),
    ".npz with a scalar": (lambda d: _npz(d / "v.npz", train_x=np.float32(3)), "fashion-mnist", "numbers of examples"),
    ".pkl.gz truncated": (
        lambda d: _gz_pickle(d / "t.pkl.gz", ((np.zeros((3, 4)), np.zeros(3)),) * 3, cut=0.5),
        "fashion-mnist",
        "cannot read",
    ),
    ".pkl.gz of an integer": (lambda d: _gz_pickle(d / "i.pkl.gz", 7), "fashion-mnist", "three splits"),
    ".pkl.gz not gzipped": (lambda d: (d / "n.pkl.gz").write_bytes(b"not gzip") and d / "n.pkl.gz", "fashion-mnist", "cannot read"),
    ".pkl.gz of object arrays": (
        lambda d: _gz_pickle(d / "o.pkl.gz", ((np.array([[None, 1]], dtype=object), np.zeros(1)),) * 3),
        "fashion-mnist",
        "not numbers",
    ),
}


@pytest.mark.parametrize("case", DATA_FILES)
def test_damaged_data_file_is_a_data_error_naming_it(tmp_path, case):
    make, kind, words = DATA_FILES[case]
    path = make(tmp_path)
    with pytest.raises(DataError) as caught:
        load_dataset(kind, {}, str(path))
    assert str(path) in caught.value.message and words in caught.value.message


def test_damaged_data_file_exits_2_at_the_data_declaration(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"PK\x03\x04 junk")
    status, err = _symdl("run", str(MODELS / "linear.sdl"), "--data", str(path), "--backend", "fast", "--out", str(tmp_path / "run"))
    assert status == 2, err
    assert f"{MODELS / 'linear.sdl'}:6:1: error[E630]" in err and str(path) in err


# ---- run directories for --resume and eval -----------------------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "good"
    status, err = _symdl("run", str(MODELS / "mlp_momentum.sdl"), "--backend", "fast", "--max-epochs", "1", "--quiet", "--out", str(out))
    assert status == 0, err
    return out


def _damage(good: Path, target: Path, config=None, params=None, drop: str = "") -> Path:
    shutil.copytree(good, target)
    if config is not None:
        (target / "config.json").write_bytes(config(json.loads((good / "config.json").read_text())))
    if params is not None:
        arrays = dict(np.load(good / "params.npz"))
        damaged = params(arrays)
        if isinstance(damaged, bytes):
            (target / "params.npz").write_bytes(damaged)
        else:
            np.savez(target / "params.npz", **damaged)
    if drop:
        (target / drop).unlink()
    return target


def _first_changed(arrays: dict, value) -> dict:
    name = next(k for k in arrays if not k.startswith("__"))
    return {**arrays, name: value(arrays[name])}


def _record(text: str):
    return lambda arrays: {**arrays, "__resume__": np.array(text)}


RUN_DIRS = {
    "config.json garbage": ({"config": lambda c: b"\x00\xff junk"}, "config.json", "E710"),
    "config.json truncated": ({"config": lambda c: json.dumps(c).encode()[:40]}, "config.json", "E710"),
    "config.json a list": ({"config": lambda c: b"[1, 2]"}, "config.json", "E711"),
    "config.json overrides not strings": ({"config": lambda c: json.dumps({**c, "overrides": [1, None]}).encode()}, "config.json", "E712"),
    "config.json unknown backend": ({"config": lambda c: json.dumps({**c, "backend": "gpu"}).encode()}, "config.json", "E713"),
    "config.json missing": ({"drop": "config.json"}, "", "E733"),
    "params.npz garbage": ({"params": lambda a: b"PK\x03\x04 junk"}, "params.npz", "E605"),
    "params.npz missing": ({"drop": "params.npz"}, "", "E733"),
    "params.npz lacks a parameter": ({"params": lambda a: dict(list(a.items())[1:])}, "params.npz", "E603"),
    "params.npz wrong shape": ({"params": lambda a: _first_changed(a, lambda v: np.zeros((7, 7)))}, "params.npz", "E604"),
    "params.npz of strings": ({"params": lambda a: _first_changed(a, lambda v: np.full(v.shape, "a"))}, "params.npz", "E606"),
    "resume record not JSON": ({"params": _record("not json")}, "params.npz", "E715"),
    "resume record a list": ({"params": _record("[1, 2]")}, "params.npz", "E716"),
    "resume record's stage a word": ({"params": _record('{"stage": "x"}')}, "params.npz", "E717"),
    "resume record's epoch a word": ({"params": _record('{"stage": 0, "position": {"epoch": "q"}}')}, "params.npz", "E717"),
}


@pytest.mark.parametrize("case", RUN_DIRS)
def test_damaged_run_directory_is_refused_naming_the_file(finished_run, tmp_path, case):
    damage, file, code = RUN_DIRS[case]
    directory = _damage(finished_run, tmp_path / "run", **damage)
    status, err = _symdl("run", "--resume", str(directory), "--quiet")
    assert status == 2, err
    assert f"error[{code}]" in err and f"{directory / file}".rstrip("/") in err
    assert "internal error" not in err
    if file != "config.json" and "resume record" not in case and code != "E733":  # eval reads the parameters too
        status, err = _symdl("eval", str(MODELS / "mlp_momentum.sdl"), "--params", str(directory), "--backend", "fast")
        assert status == 2 and f"error[{code}]" in err and str(directory / file) in err, err
    if file == "config.json":  # and the run's overrides from its config.json
        status, err = _symdl("eval", str(MODELS / "mlp_momentum.sdl"), "--params", str(directory), "--backend", "fast")
        assert status == 2 and f"error[{code}]" in err and str(directory / file) in err, err
