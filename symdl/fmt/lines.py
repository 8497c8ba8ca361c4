"""One run of tokens as output lines: on one line when it fits, else split inside a bracket pair.

A run too long for a line (or holding a comment) is split at the depth-0 bracket pair with the most
inside it (when that is at least a third of the line; else the line stays long): the head up to the
opening bracket, the inside one level deeper, filled with as many comma-separated items per line as fit,
the closing bracket and what follows on a line of their own.
A comment inside a run forces a break: a trailing one ends its token's line, an own-line one starts
its token's line (or, before a closing bracket, follows the line before it). Breaks only ever fall
inside brackets, where the grammar ignores newlines.
"""

from __future__ import annotations

from dataclasses import dataclass

from symdl.fmt.tokens import CLOSERS, OPENERS, Tok, join

WIDTH = 120  # the widest line of code (a trailing comment may run past it)
INDENT = "    "


@dataclass
class Line:
    """An output line: indentation depth, code and trailing comment (code "" for an own-line comment)."""

    depth: int
    code: str
    comment: str = ""


def run_lines(toks: list[Tok], depth: int) -> list[Line]:
    """The lines one run of tokens takes at a depth."""
    return _Layout(toks).lines(0, len(toks), depth)


class _Layout:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.partner = _partners(toks)

    def lines(self, lo: int, hi: int, depth: int) -> list[Line]:
        if self._fits(lo, hi, depth):
            return self._line(lo, hi, depth)
        pair = self._split_pair(lo, hi)
        if pair is None:
            return self._forced(lo, hi, depth)
        opener, closer = pair
        return self.lines(lo, opener + 1, depth) + self._inside(opener + 1, closer, depth + 1) + self.lines(closer, hi, depth)

    def _inside(self, lo: int, hi: int, depth: int) -> list[Line]:
        """The inside of a bracket pair: one line if it fits, else comma-separated items filled per line."""
        if self._fits(lo, hi, depth):
            return self._line(lo, hi, depth)
        out: list[Line] = []
        start = None  # first token of the items gathered on the current line
        for a, b in self._items(lo, hi):
            if not self._fits(a, b, depth):  # an item that needs lines of its own
                out += self._line(start, a, depth) if start is not None else []
                out += self.lines(a, b, depth)
                start = None
                continue
            if start is not None and (self.toks[a].leading or not self._fits(start, b, depth)):
                out += self._line(start, a, depth)
                start = None
            start = a if start is None else start
            if self.toks[b - 1].breaks_after:
                out += self._line(start, b, depth)
                start = None
        return out + (self._line(start, hi, depth) if start is not None else [])

    def _items(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Ranges of the depth-0 comma-separated items in [lo, hi), each with its comma."""
        items, start, i = [], lo, lo
        while i < hi:
            if self.toks[i].text in OPENERS:
                i = self.partner.get(i, hi - 1)
            elif self.toks[i].text == ",":
                items.append((start, i + 1))
                start = i + 1
            i += 1
        return items + ([(start, hi)] if start < hi else [])

    def _fits(self, lo: int, hi: int, depth: int) -> bool:
        """No comment inside [lo, hi) forces a break, and it fits the width on one line."""
        if any(t.breaks_after for t in self.toks[lo : hi - 1]) or any(t.leading for t in self.toks[lo + 1 : hi]):
            return False
        return len(INDENT) * depth + len(join(self.toks[lo:hi])) <= WIDTH

    def _split_pair(self, lo: int, hi: int) -> tuple[int, int] | None:
        """The depth-0 bracket pair to split at: the one around a forced break, else the one with most inside."""
        pairs = []
        i = lo
        while i < hi:
            closer = self.partner.get(i)
            if closer is not None and closer < hi and closer > i + 1:
                pairs.append((i, closer))
            i = closer + 1 if closer is not None and closer < hi else i + 1
        if not pairs:
            return None
        forced = [p for p in pairs if self._has_comment(p)]
        if forced:
            return forced[0]
        inside = {p: len(join(self.toks[p[0] + 1 : p[1]])) for p in pairs}
        best = max(reversed(pairs), key=inside.__getitem__)
        return best if inside[best] * 3 >= len(join(self.toks[lo:hi])) else None  # else a long line beats `x[\n-1\n]`

    def _has_comment(self, pair: tuple[int, int]) -> bool:
        """A comment between the pair's brackets (or right after the opening one) forces it open."""
        opener, closer = pair
        return any(t.breaks_after for t in self.toks[opener:closer]) or any(t.leading for t in self.toks[opener + 1 : closer + 1])

    def _forced(self, lo: int, hi: int, depth: int) -> list[Line]:
        """No pair to split at: break only where comments force it (always inside brackets), the rest long."""
        out: list[Line] = []
        start = lo
        for i in range(lo, hi):
            if i > start and self.toks[i].leading:
                out += self._line(start, i, depth if not out else depth + 1)
                start = i
            if self.toks[i].breaks_after and i + 1 < hi:
                out += self._line(start, i + 1, depth if not out else depth + 1)
                start = i + 1
        return out + self._line(start, hi, depth if not out else depth + 1)

    def _line(self, lo: int, hi: int, depth: int) -> list[Line]:
        """Own-line comments before the first token, then the tokens with the last one's trailing comment."""
        last = self.toks[hi - 1]
        before = [Line(depth, "", c) for c in self.toks[lo].leading]
        return before + [Line(depth, join(self.toks[lo:hi]), last.trailing)] + [Line(depth, "", c) for c in last.after]


def _partners(toks: list[Tok]) -> dict[int, int]:
    """Each opening bracket's index mapped to its closing bracket's."""
    stack: list[int] = []
    partner = {}
    for i, tok in enumerate(toks):
        if tok.text in OPENERS:
            stack.append(i)
        elif tok.text in CLOSERS and stack:
            partner[stack.pop()] = i
    return partner
