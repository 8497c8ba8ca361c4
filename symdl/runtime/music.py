"""Polyphonic music as binary piano-rolls: music21 scores and MIDI files in, MIDI files and pictures out.

A piano-roll has one row per time step of a fixed grid (`step` quarter notes, 1.0 = a quarter note)
and one column per piano key, MIDI 21 (A0) to 108 (C8). A split of pieces is one concatenated
`x: f32[T, 88]` and `piece: i32[T]`, the index of the piece each row belongs to; `pieces()` gives back
each piece's rows. Loading problems are `DataError`s (see data.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symdl.runtime.checkpoint import _atomic, save_arrays
from symdl.runtime.data import DataKind, FileReader, register
from symdl.runtime.dataset import DataError, Dataset, Splits

LOW, HIGH = 21, 109  # MIDI note numbers of the roll's columns: [LOW, HIGH), the 88 piano keys
KEYS = HIGH - LOW
SPLITS = (("train", 0.6), ("valid", 0.2), ("test", 0.2))
SPLIT_SEED = 0
TICKS_PER_BEAT = 480
CACHE_ENV = "SYMDL_CACHE_DIR"
CACHE_VERSION = 3  # bump when the conversion changes, so an old cache is not read
MUSIC_HINT = "install the music extra: pip install -e '.[music]'"


def _grid(quarters: float, step: float) -> int:
    """The first grid point at or after a time (a hair of tolerance for float offsets such as 1/3)."""
    return int(np.ceil(quarters / step - 1e-6))


def roll_from_notes(notes: list[tuple[int, float, float]], length: float, step: float) -> np.ndarray:
    """(pitch, onset, end) in quarter notes -> a binary roll [ceil(length / step), 88], sampled on the grid:
    a key is on in frame t when one of its notes sounds at time t * step (onset <= t * step < end), so a
    four-part chorale has at most four keys a frame and a note between two grid points is dropped.
    Pitches off the piano (MIDI 21..108) are dropped."""
    roll = np.zeros((max(_grid(length, step), 1), KEYS), np.float32)
    for pitch, onset, end in notes:
        if LOW <= pitch < HIGH:
            roll[_grid(onset, step) : _grid(end, step), pitch - LOW] = 1
    return roll


def stream_roll(score, step: float) -> np.ndarray:
    """A music21 stream as a piano-roll (ties merged, repeats not expanded)."""
    flat = score.stripTies().flatten()
    notes = [(p.midi, float(n.offset), float(n.offset + n.quarterLength)) for n in flat.notes for p in n.pitches]
    return roll_from_notes(notes, float(flat.highestTime), step)


def midi_roll(path: Path, step: float) -> np.ndarray:
    """A MIDI file (every track, every channel but drums) as a piano-roll on a grid of `step` beats."""
    import mido

    try:
        midi = mido.MidiFile(str(path))
        if midi.ticks_per_beat <= 0:
            raise ValueError(f"its header gives {midi.ticks_per_beat} ticks per beat")
        notes, sounding, end = [], {}, 0.0
        for track in midi.tracks:
            ticks = 0
            for msg in track:
                ticks += msg.time
                beat = ticks / midi.ticks_per_beat
                end = max(end, beat)
                if msg.type not in ("note_on", "note_off") or msg.channel == 9:
                    continue
                key = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    sounding.setdefault(key, beat)
                elif key in sounding:
                    notes.append((msg.note, sounding.pop(key), beat))
    except Exception as e:  # noqa: BLE001 - mido fails on a damaged file in many ways (KeySignatureError among them)
        raise DataError("E641", "the file is corrupt or not a MIDI file", path=path, reason=str(e) or type(e).__name__) from None
    notes += [(note, onset, end) for (_, note), onset in sounding.items()]  # notes never released end with the file
    return roll_from_notes(notes, end, step)


def write_midi(roll: np.ndarray, path: Path, step: float, velocity: int = 80) -> None:
    """A binary piano-roll [T, 88] as a one-track MIDI file (120 beats per minute), written atomically."""
    import mido

    per_step = int(round(step * TICKS_PER_BEAT))
    on = np.pad(np.asarray(roll) > 0.5, ((1, 1), (0, 0)))
    events = []  # (tick, is_on, note): note-offs sort before note-ons at the same tick
    for t, k in zip(*np.nonzero(on[1:] & ~on[:-1])):
        events.append((t * per_step, 1, k + LOW))
    for t, k in zip(*np.nonzero(~on[1:] & on[:-1])):
        events.append((t * per_step, 0, k + LOW))
    track, now = mido.MidiTrack(), 0
    for tick, is_on, note in sorted(events):
        track.append(
            mido.Message("note_on" if is_on else "note_off", note=int(note), velocity=velocity if is_on else 0, time=int(tick - now))
        )
        now = tick
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT, tracks=[track])
    _atomic(Path(path), lambda handle: midi.save(file=handle))


def frame_accuracy(predicted: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of binary frames, summed over every frame and key
    (Bay et al. 2009's frame-level accuracy is TP / (TP + FP + FN) of these sums)."""
    p, t = np.asarray(predicted) > 0.5, np.asarray(truth) > 0.5
    return int(np.sum(p & t)), int(np.sum(p & ~t)), int(np.sum(~p & t))


def accuracy(tp: int, fp: int, fn: int) -> float:
    """TP / (TP + FP + FN); 1.0 when both are silent throughout."""
    return tp / (tp + fp + fn) if tp + fp + fn else 1.0


# ---- splits --------------------------------------------------------------------------------------


def split_names(names: list[str], seed: int = SPLIT_SEED) -> dict[str, list[int]]:
    """Piece indices per split, ~60/20/20: a seeded permutation of the pieces sorted by name, so the split
    depends only on the set of names (never on the order they were found in)."""
    order = sorted(range(len(names)), key=lambda i: names[i])
    order = [order[i] for i in np.random.RandomState(seed).permutation(len(order))]
    cuts = np.cumsum([round(share * len(order)) for _, share in SPLITS[:-1]])
    parts = np.split(np.array(order, dtype=int), cuts)
    return {name: sorted(part.tolist()) for (name, _), part in zip(SPLITS, parts)}


def concatenate(rolls: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Pieces as one split: rows `x` and the piece index of each row."""
    if not rolls:
        return {"x": np.zeros((0, KEYS), np.float32), "piece": np.zeros(0, np.int32)}
    piece = np.concatenate([np.full(len(r), k, np.int32) for k, r in enumerate(rolls)])
    return {"x": np.concatenate(rolls).astype(np.float32), "piece": piece}


def pieces(split: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Each piece's rows of a split, in order."""
    bounds = np.flatnonzero(np.diff(split["piece"])) + 1
    return np.split(split["x"], bounds) if len(split["x"]) else []


def split_rolls(rolls: list[np.ndarray], names: list[str]) -> Splits:
    """Pieces split deterministically by piece into train/valid/test; a single piece is all three."""
    if len(rolls) == 1:
        whole = concatenate(rolls)
        return {"train": whole, "valid": whole, "test": whole}
    return {split: concatenate([rolls[i] for i in chosen]) for split, chosen in split_names(names).items()}


@dataclass(frozen=True)
class PieceDataset(Dataset):
    """A data set of pieces: `--train-limit N` keeps the first N training pieces, not N rows."""

    def limit_train(self, n: int) -> Dataset:
        if n < 1:
            raise DataError("E640", "give a positive number of pieces", n=n, what="pieces")
        train = self.splits["train"]
        keep = train["piece"] < n
        return PieceDataset(self.name, {**self.splits, "train": {k: v[keep] for k, v in train.items()}})


# ---- sources ---------------------------------------------------------------------------------------


def _cache_path(step: float) -> Path:
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "symdl")
    return root / f"bach-chorales-v{CACHE_VERSION}-step{step:g}.npz"


def _parse_chorales(step: float) -> tuple[list[np.ndarray], list[str]]:
    try:
        from music21 import corpus
    except ImportError:
        raise DataError("E642", MUSIC_HINT) from None
    names = [n for n in corpus.chorales.Iterator(returnType="filename") if n]
    rolls = [stream_roll(corpus.parse(name), step) for name in names]
    return rolls, names


def bach_chorales(step: float = 1.0) -> Splits:
    """The Bach chorales of music21's corpus (Riemenschneider's 371) on a grid of `step` quarter notes,
    parsed once and cached under ~/.cache/symdl (or $SYMDL_CACHE_DIR), keyed by the grid."""
    path = _cache_path(step)
    cached = _read_cache(path)
    if cached is None:
        rolls, names = _parse_chorales(step)
        save_arrays(
            path, {"x": np.concatenate(rolls).astype(np.uint8), "lengths": np.array([len(r) for r in rolls]), "names": np.array(names)}
        )
    else:
        rolls, names = cached
    return split_rolls([r.astype(np.float32) for r in rolls], names)


def _read_cache(path: Path) -> tuple[list[np.ndarray], list[str]] | None:
    """The cached rolls and names, or None when there is no cache or it cannot be read (then it is rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as cached:
            lengths, names, x = cached["lengths"], cached["names"].tolist(), cached["x"]
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, whatever numpy says about it
        return None
    return np.split(x, np.cumsum(lengths)[:-1]), names


def midi_files(path: Path, step: float = 1.0) -> Splits:
    """One MIDI file (train = valid = test), or a directory of them split by piece."""
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".mid", ".midi")) if path.is_dir() else [path]
    if not files:
        raise DataError("E643", "pass a MIDI file or a directory of them", path=path)
    return split_rolls([midi_roll(f, step) for f in files], [f.name for f in files])


def is_midi(path: Path) -> bool:
    """A MIDI file, or a directory with MIDI files in it."""
    if path.is_dir():
        return any(p.suffix.lower() in (".mid", ".midi") for p in path.iterdir())
    return path.suffix.lower() in (".mid", ".midi")


register(DataKind("bach-chorales", {"step": 1.0}, ("x", "piece"), bach_chorales, PieceDataset))
register(FileReader(is_midi, midi_files, PieceDataset, options=("step",)))


# ---- pictures --------------------------------------------------------------------------------------


def save_roll_picture(roll: np.ndarray, path: Path, step: float, title: str = "generated piano-roll") -> None:
    """A piano-roll as a picture: time (quarter notes) on x, MIDI note number on y; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    ax.imshow(
        np.asarray(roll).T, origin="lower", aspect="auto", interpolation="nearest", cmap="gray_r", extent=(0, step * len(roll), LOW, HIGH)
    )
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("MIDI note number")
    ax.set_title(title)
    fig.tight_layout()
    _atomic(Path(path), lambda handle: fig.savefig(handle, format="png", dpi=100))
    plt.close(fig)
