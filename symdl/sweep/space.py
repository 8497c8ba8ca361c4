"""A sweep's search space: grid and sampled hypers, from the command line or a small file.

`--grid lr=0.01,0.1` tries each value; `--sample "lr=loguniform(1e-4,1e-1)"` draws one per trial.
A space file says the same one hyper a line: `lr = 0.01, 0.1` (a grid) or `lr ~ loguniform(1e-4, 1e-1)`.
Every value is typed against the hyper's declared value by the `--set` machinery, before Ray starts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Source, Span, did_you_mean

# A sampled hyper's distributions and what their arguments are; bounds are inclusive.
DISTRIBUTIONS = {
    "uniform": "two numbers, low and high",
    "loguniform": "two positive numbers, low and high",
    "randint": "two whole numbers, low and high",
    "lograndint": "two positive whole numbers, low and high",
    "choice": "one or more values",
}
_SAMPLE = re.compile(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$")


@dataclass(frozen=True)
class Axis:
    """One swept hyper: a grid of values, or a distribution with its arguments (value texts, each with its span)."""

    name: str
    span: Span
    dist: str  # "grid" or a key of DISTRIBUTIONS
    texts: tuple[str, ...]
    spans: tuple[Span, ...]

    @property
    def numeric(self) -> bool:
        return self.dist not in ("grid", "choice")

    @property
    def log(self) -> bool:
        return self.dist.startswith("log")

    def bounds(self) -> tuple[float, float]:
        kind = int if "randint" in self.dist else float
        return kind(self.texts[0]), kind(self.texts[1])

    def describe(self) -> str:
        values = ", ".join(self.texts)
        return f"{self.name} = {values}" if self.dist == "grid" else f"{self.name} ~ {self.dist}({values})"


def parse_option(text: str, option: str) -> Axis:
    """One `--grid NAME=V1,V2` or `--sample NAME=DIST(ARGS)` (option is "--grid" or "--sample")."""
    source = Source(option, text)
    name, sep, rest = text.partition("=")
    if not sep:
        example = "--grid lr=0.01,0.1" if option == "--grid" else '--sample "lr=loguniform(1e-4,1e-1)"'
        fail("E720", Span(source, 1, 1, 1, len(text) + 1), text=text, hint=f"write {option} NAME=..., e.g. {example}")
    return _axis(source, 1, name, len(name) + 2, rest, "grid" if option == "--grid" else "sample")


def parse_file(path: Path) -> list[Axis]:
    """A space file: `NAME = V1, V2` (grid) or `NAME ~ DIST(ARGS)` (sampled) a line; `#` starts a comment."""
    try:
        source = Source.read(path)
    except (OSError, UnicodeDecodeError) as err:
        fail("E756", None, hint="check the path", path=path, reason=getattr(err, "strerror", None) or err)
    axes = []
    for number, line in enumerate(source.lines, 1):
        body = line.split("#", 1)[0]
        if not body.strip():
            continue
        match = re.match(r"([^=~]*)([=~])(.*)$", body)
        if match is None:
            fail(
                "E720",
                Span.whole_line(source, number),
                text=body.strip(),
                hint="write NAME = V1, V2 (a grid) or NAME ~ loguniform(LOW, HIGH)",
            )
        name, sign, rest = match.groups()
        axes.append(_axis(source, number, name, len(name) + 2, rest, "grid" if sign == "=" else "sample"))
    return axes


def _axis(source: Source, line: int, name: str, column: int, rest: str, kind: str) -> Axis:
    """The axis of `name` whose values `rest` start at `column` of `line`."""
    stripped = name.strip()
    start = len(name) - len(name.lstrip()) + 1
    name_span = Span(source, line, start, line, start + max(len(stripped), 1))
    if not stripped.isidentifier():
        fail("E720", name_span, text=source.line(line).strip(), hint="a sweep names a hyper of the model, e.g. lr")
    if kind == "grid":
        parts = _split(rest, column)
        return Axis(
            stripped, name_span, "grid", tuple(t for t, _ in parts), tuple(Span(source, line, c, line, c + len(t)) for t, c in parts)
        )
    match = _SAMPLE.match(rest)
    if match is None:
        fail("E720", name_span, text=source.line(line).strip(), hint="a sampled hyper is NAME=DIST(ARGS), e.g. lr=loguniform(1e-4,1e-1)")
    dist = match.group(1)
    dist_column = column + match.start(1)
    dist_span = Span(source, line, dist_column, line, dist_column + len(dist))
    if dist not in DISTRIBUTIONS:
        fail("E721", dist_span, name=dist, hint=did_you_mean(dist, list(DISTRIBUTIONS)) or f"distributions: {', '.join(DISTRIBUTIONS)}")
    parts = _split(match.group(2), column + match.start(2))
    axis = Axis(stripped, name_span, dist, tuple(t for t, _ in parts), tuple(Span(source, line, c, line, c + len(t)) for t, c in parts))
    _check_arguments(axis, dist_span)
    return axis


def _split(text: str, column: int) -> list[tuple[str, int]]:
    """Values separated by top-level commas (a list value keeps its own), each with the column it starts at."""
    parts, depth, start = [], 0, 0
    for k, char in enumerate(text + ","):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            piece = text[start:k]
            lead = len(piece) - len(piece.lstrip())
            parts.append((piece.strip(), column + start + lead))
            start = k + 1
    return parts


def _check_arguments(axis: Axis, dist_span: Span) -> None:
    """A distribution's arguments: their count, that they are numbers, that the range holds something."""
    empty = [s for t, s in zip(axis.texts, axis.spans) if not t]
    if empty or (axis.dist != "choice" and len(axis.texts) != 2):
        fail(
            "E722",
            empty[0] if empty else dist_span,
            dist=axis.dist,
            expected=DISTRIBUTIONS[axis.dist],
            given=", ".join(axis.texts) or "nothing",
        )
    if axis.dist == "choice":
        return
    kind = int if "randint" in axis.dist else float
    for text, span in zip(axis.texts, axis.spans):
        try:
            number = kind(text)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number):
            fail("E722", span, dist=axis.dist, expected=DISTRIBUTIONS[axis.dist], given=f"'{text}'")
    low, high = axis.bounds()
    if low >= high or (axis.log and low <= 0):
        why = "low must be above 0 on a log scale" if low < high else "low must be below high"
        fail("E723", dist_span, name=axis.name, range=f"{axis.dist}({low}, {high})", hint=why)


def override_texts(axis: Axis) -> list[tuple[str, Span]]:
    """What to check each value with, as `--set` would take it: grid and choice values as written, bounds as the numbers drawn."""
    if axis.dist in ("grid", "choice"):
        return [(f"{axis.name}={t}", s) for t, s in zip(axis.texts, axis.spans)]
    return [(f"{axis.name}={b!r}", s) for b, s in zip(axis.bounds(), axis.spans)]


def set_text(name: str, value: object) -> str:
    """The `--set` text of one trial's value (a float keeps every digit: the run it names is the run it was)."""
    return f"{name}={value!r}" if isinstance(value, float) else f"{name}={value}"
