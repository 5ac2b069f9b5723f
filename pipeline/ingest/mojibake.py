"""Repair runs of GBK text that were decoded one byte out of step.

How such a run comes about (seen in real files): in the GBK bytes of a
sentence one byte is lost (it shows as ``?``) and the decoder then pairs each
character's trail byte with the next character's lead byte, until an ASCII
byte puts it back in step. ``到了朋友圈,`` = ``b5bd c1cb c5f3 d3d1 c8a6 2c``
becomes ``?`` + ``bdc1 cbc5 f3d3 d1c8`` + ``?,`` = ``?搅伺笥讶?,``. Along the way:

* a trail byte 0x40–0x7E or 0x80 cannot start a character: it shows as that
  ASCII letter/sign (or ``€``, cp936's 0x80) and the decoder is back in step
  (``這`` = ``df40`` leaves an ``@``);
* a lost trail byte before an ASCII byte shows as ``?``;
* pairs starting 0xA3 are full-width forms (``！`` = ``a3a1``) that a later
  normaliser turned into ASCII (``!``), so ASCII inside a run is read as its
  full-width form;
* pairs in the user-defined area (``afd2``) decode to private-use characters,
  which a cleaner may have dropped: a run may miss such pairs ("gaps"); a
  ``?`` inside a run may also stand for one.

Some garblers drop the first byte without a trace: such an unmarked run is
looked for only before a ``?`` whose preceding characters read badly, and must
span at least three characters.

Repair re-encodes the run, puts the lost bytes back and reads it in step. Lost
bytes (a lead 0x81–0xFE at the start, a trail 0x81–0xFE at the end, both bytes
of a gap) are chosen by the word model in ``charmodel``, with the context on
both sides. A run is replaced only when its repaired reading is clearly more
plausible than the text as it stands (false positives cost more than misses);
a character whose lost byte cannot be chosen confidently becomes U+FFFD. Every
run ends at (and most start at) a ``?``: text without one costs a single scan.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from pipeline.ingest import charmodel

_QMARKS = "?\ufffd"
_REPLACEMENT = "\ufffd"
_MAX_RUN = 40  # characters after the leading "?" that one run may span
_MAX_ENDS = 4  # end positions tried for one leading "?"
_LOOKAHEAD = 4  # a run starting this close after a "?" competes with runs from it
_MIN_UNMARKED, _MAX_UNMARKED = 3, 12  # characters a run whose lost lead left no "?" may span
_SCREEN = 5  # characters before a "?" that must read badly to look for such a run ...
_SCREEN_BELOW = -8.5  # ... as mean log P per character (clean text: about -5, rarely below -7.5)
_MAX_MID_QMARKS = 2  # each "?" inside a run is tried as "？" and as a lost pair
_TOP = 32  # candidates tried for one lost byte, the most common characters first
_TOP_PAIRED = 10  # for two neighbouring lost bytes: all pairs of the most common candidates
_PASSES = 2
_WINDOW = 5  # characters on each side that judge one candidate
_CONTEXT = 8  # characters on each side that judge a whole run
_LOG_PRIOR_RUN = -3.0  # a garbled run is rarer than a real question mark
_LOG_PRIOR_WORD = -3.0  # ... and rarer when its last byte would be glued to an English word
_LOG_PRIOR_UNMARKED = -2.0  # ... or when its lost lead byte left no "?"
_LOG_PRIOR_LOST_PAIR = -1.0  # a "?" inside a run is a lost pair rather than "？"
_LOG_PRIOR_GAP = -0.5  # dropping a user-defined pair is certain; finding it is a guess
_GAP_SEARCH_ABOVE = -10.0  # log-odds under which a run is hopeless, gaps or not
_MIN_MARGIN = 4.0  # log-odds a recovered character needs over its best rival


@dataclass(frozen=True)
class MojibakeRepair:
    text: str  # repaired text
    runs_repaired: int  # number of garbled runs fixed
    unrecoverable: int  # number of U+FFFD markers inserted


@dataclass(frozen=True)
class _Run:
    """A candidate run text[start:end]: the lost lead's "?" (if it left one), the mids, the last character."""

    start: int
    end: int
    mids: tuple[str, ...]
    last: str  # "?" for a lost trail byte, or an ASCII/€ character that is a trail byte
    prior: float  # log prior of a garbled run ending like this


@dataclass(frozen=True)
class _Slot:
    """One original character: its lead and trail byte, ``None`` where lost.

    ``linked``: its lost trail and the next slot's lost lead were one pair
    that did not decode (dropped, or shown as "?"); ``penalty`` is that guess's prior.
    """

    lead: int | None
    trail: int | None
    linked: bool = False
    penalty: float = 0.0


@dataclass(frozen=True)
class _Reading:
    chars: tuple[str, ...]
    score: float  # log P of context + chars + context, priors included
    unsure: tuple[bool, ...]  # per char: a rival was almost as plausible


_Choice = tuple[int, int, str]  # lead, trail, the character they make


# --- GBK tables ---------------------------------------------------------------


@lru_cache(maxsize=1)
def _gbk() -> dict[int, str]:
    """Every decodable two-byte GBK code, keyed ``lead << 8 | trail``."""
    trails = [*range(0x40, 0x7F), *range(0x80, 0xFF)]
    table: dict[int, str] = {}
    for lead in range(0x81, 0xFF):
        # one decode per lead byte: every pair followed by a newline, which no pair absorbs
        row = b"".join(bytes((lead, trail)) + b"\n" for trail in trails).decode("gbk", errors="replace")
        for trail, piece in zip(trails, row.split("\n")):
            if len(piece) == 1 and piece != "\ufffd":
                table[lead << 8 | trail] = piece
    return table


def _most_common_first(pairs: list[tuple[int, str]]) -> tuple[tuple[int, str], ...]:
    return tuple(sorted(pairs, key=lambda p: -charmodel.char_logp(p[1])))


@lru_cache(maxsize=256)
def _by_trail(trail: int) -> tuple[tuple[int, str], ...]:
    """(lead, char) for every lead that makes a character with this trail byte."""
    gbk = _gbk()
    found = [(lead, gbk[lead << 8 | trail]) for lead in range(0x81, 0xFF) if lead << 8 | trail in gbk]
    return _most_common_first(found)


@lru_cache(maxsize=256)
def _by_lead(lead: int) -> tuple[tuple[int, str], ...]:
    """(trail, char) for trails 0x81–0xFE: a lost trail was no ASCII byte or € (those show)."""
    gbk = _gbk()
    found = [(trail, gbk[lead << 8 | trail]) for trail in range(0x81, 0xFF) if lead << 8 | trail in gbk]
    return _most_common_first(found)


@lru_cache(maxsize=256)
def _undecodable_after(first: int) -> frozenset[int]:
    """Bytes 0x81–0xFE that make no character after ``first`` (user-defined area, holes)."""
    return frozenset(b for b in range(0x81, 0xFF) if first << 8 | b not in _gbk())


@lru_cache(maxsize=65536)
def _two_bytes(ch: str) -> tuple[int, int] | None:
    """The GBK pair a character inside a garbled run was decoded from."""
    if " " < ch < "\x7f":
        return 0xA3, ord(ch) + 0x80  # normalised back from its full-width form
    if 0xE000 <= ord(ch) <= 0xE765:
        raw = ch.encode("gb18030")  # user-defined area, mapped like cp936
    else:
        try:
            raw = ch.encode("gbk")
        except UnicodeEncodeError:
            return None
    return (raw[0], raw[1]) if len(raw) == 2 else None


def _trail_byte(ch: str) -> int | None:
    """The byte of a run-ending character that is a lone trail byte (ASCII 0x40–0x7E, € = 0x80)."""
    if "@" <= ch <= "~":
        return ord(ch)
    return 0x80 if ch == "€" else None


# --- reading a run ------------------------------------------------------------


def _options(slots: list[_Slot], k: int, chosen: list[_Choice] | None = None) -> list[_Choice]:
    """What slot k may be, the most common first; with ``chosen``, only what fits the
    current choice of a linked neighbour."""
    slot = slots[k]
    if slot.lead is not None and slot.trail is not None:
        ch = _gbk().get(slot.lead << 8 | slot.trail)
        return [(slot.lead, slot.trail, ch)] if ch else []
    if slot.lead is not None:
        opts = [(slot.lead, trail, ch) for trail, ch in _by_lead(slot.lead)]
        if slot.linked:  # its trail and the next lead made no character
            opts = [o for o in opts if _undecodable_after(o[1])]
            if chosen is not None:
                opts = [o for o in opts if chosen[k + 1][0] in _undecodable_after(o[1])]
        return opts
    assert slot.trail is not None
    opts = [(lead, slot.trail, ch) for lead, ch in _by_trail(slot.trail)]
    if chosen is not None and k and slots[k - 1].linked:
        opts = [o for o in opts if o[0] in _undecodable_after(chosen[k - 1][1])]
    return opts


def _initial(slots: list[_Slot]) -> list[_Choice] | None:
    """The most common character for each slot (for a linked pair, the most common pair)."""
    chosen: list[_Choice] = []
    for k, slot in enumerate(slots):
        if len(chosen) > k:
            continue  # second half of a linked pair
        if slot.linked:
            pairs = _pair_options(slots, k)
            if not pairs:
                return None
            chosen += pairs[0]
            continue
        opts = _options(slots, k, chosen)
        if not opts:
            return None
        chosen.append(opts[0])
    return chosen


def _decode(slots: list[_Slot], left: str, right: str) -> _Reading | None:
    """Choose the lost bytes: each slot in turn takes the candidate its neighbourhood reads best with.

    Neighbouring slots that both lost a byte are first chosen together (the
    pairs that make a dictionary word, which one-at-a-time choice misses).
    """
    chosen = _initial(slots)
    if chosen is None:
        return None
    seq = list(left) + [c[2] for c in chosen] + list(right)
    lost = [slot.lead is None or slot.trail is None for slot in slots]

    def window_score(i: int, width: int) -> float:
        return charmodel.text_logp("".join(seq[max(0, i - _WINDOW) : i + width + _WINDOW]))

    for k in range(len(slots) - 1):
        if lost[k] and lost[k + 1]:
            i = len(left) + k
            scored = []
            for pair in _pair_options(slots, k) + [(chosen[k], chosen[k + 1])]:
                seq[i], seq[i + 1] = pair[0][2], pair[1][2]
                scored.append((window_score(i, 2), pair))
            chosen[k], chosen[k + 1] = max(scored, key=lambda sc: sc[0])[1]
            seq[i], seq[i + 1] = chosen[k][2], chosen[k + 1][2]
    margins: dict[int, float] = {}
    for _ in range(_PASSES):
        for k in (k for k in range(len(slots)) if lost[k]):
            i = len(left) + k
            scored = []
            for opt in _options(slots, k, chosen)[:_TOP]:
                seq[i] = opt[2]
                scored.append((window_score(i, 1), opt))
            best_score, chosen[k] = max(scored, key=lambda sc: sc[0])
            seq[i] = chosen[k][2]
            margins[k] = best_score - max((s for s, o in scored if o[2] != chosen[k][2]), default=-math.inf)
    return _Reading(
        chars=tuple(c[2] for c in chosen),
        score=charmodel.text_logp("".join(seq)) + sum(slot.penalty for slot in slots),
        unsure=tuple(margins.get(k, math.inf) < _MIN_MARGIN for k in range(len(slots))),
    )


def _pair_options(slots: list[_Slot], k: int) -> list[tuple[_Choice, _Choice]]:
    """Choices for slots k and k+1 together: the most common ones and any that make a word."""
    firsts, seconds = _options(slots, k)[:_TOP], _options(slots, k + 1)[:_TOP]
    return [
        (a, b)
        for i, a in enumerate(firsts)
        for j, b in enumerate(seconds)
        if (not slots[k].linked or b[0] in _undecodable_after(a[1]))
        and ((i < _TOP_PAIRED and j < _TOP_PAIRED) or charmodel.forms_word(a[2], b[2]))
    ]


def _with_gaps(slots: list[_Slot], reading: _Reading, left: str, right: str) -> _Reading:
    """Put a dropped pair back wherever one makes its neighbourhood read better, then re-read.

    A dropped pair splits what looked like one character into two: ``(lead, X)(Y, trail)``.
    """
    out: list[_Slot] = []
    for k, slot in enumerate(slots):
        if slot.lead is None or slot.trail is None:
            out.append(slot)
            continue
        before = (left + "".join(reading.chars[:k]))[-_CONTEXT:]
        after = ("".join(reading.chars[k + 1 :]) + right)[:_CONTEXT]
        split = [_Slot(slot.lead, None, linked=True, penalty=_LOG_PRIOR_GAP), _Slot(None, slot.trail)]
        found = _decode(split, before, after)
        if found is not None and found.score > charmodel.text_logp(before + reading.chars[k] + after):
            out += split
        else:
            out.append(slot)
    if len(out) == len(slots):
        return reading
    found = _decode(out, left, right)
    return found if found is not None and found.score > reading.score else reading


def _layout(run: _Run, lost_at: set[int]) -> list[_Slot] | None:
    """Slots of the original characters; mids at ``lost_at`` are "?" standing for a lost pair.

    Original character k is (second byte of mid k-1, first byte of mid k): the
    lost lead comes before the first mid, the last character's byte after the last.
    """
    firsts: list[int | None] = []
    seconds: list[int | None] = [None]  # the lost lead byte
    for i, ch in enumerate(run.mids):
        pair = (None, None) if i in lost_at else _two_bytes("？" if ch in _QMARKS else ch)
        if pair is None:
            return None
        firsts.append(pair[0])
        seconds.append(pair[1])
    firsts.append(None if run.last in _QMARKS else _trail_byte(run.last))
    slots = []
    for k, (lead, trail) in enumerate(zip(seconds, firsts)):
        if lead is None and trail is None:
            return None
        if lead is not None and trail is not None and lead << 8 | trail not in _gbk():
            return None  # no GBK text reads like this
        linked = k in lost_at
        slots.append(_Slot(lead, trail, linked, _LOG_PRIOR_LOST_PAIR if linked else 0.0))
    return slots


def _runs_from(text: str, start: int) -> list[_Run]:
    """Candidate runs starting at the "?" at ``start``, shortest first."""
    runs: list[_Run] = []
    mids: list[str] = []
    for j in range(start + 1, min(len(text), start + 1 + _MAX_RUN)):
        ch = text[j]
        if ch in _QMARKS and any(m not in _QMARKS for m in mids):  # "???" alone shows nothing garbled
            runs.append(_Run(start, j + 1, tuple(mids), ch, _LOG_PRIOR_RUN))
        elif _trail_byte(ch) is not None:
            # a trail byte right before an English word is unlikely: more likely the word's first letter
            word_next = j + 1 < len(text) and text[j + 1].isascii() and text[j + 1].isalnum()
            runs.append(_Run(start, j + 1, tuple(mids), ch, _LOG_PRIOR_RUN + (_LOG_PRIOR_WORD if word_next else 0.0)))
        if len(runs) == _MAX_ENDS or (ch not in _QMARKS and _two_bytes(ch) is None):
            break
        mids.append(ch)
    return runs


def _context_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Up to ``_CONTEXT`` characters around text[start:end], within its line."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return max(line_start, start - _CONTEXT), min(len(text) if line_end < 0 else line_end, end + _CONTEXT)


def _best_reading(text: str, run: _Run, span: tuple[int, int]) -> tuple[float, _Reading] | None:
    """The best repair of a run, with its log-odds against the text as it stands.

    Both readings are judged over the same ``span`` of text around the run, so
    that the odds of rival runs (other ends, other starts) compare.
    """
    left, right = text[span[0] : run.start], text[run.end : span[1]]
    as_is = charmodel.text_logp(text[span[0] : span[1]])
    best: _Reading | None = None
    qmarks = [i for i, ch in enumerate(run.mids) if ch in _QMARKS]
    if len(qmarks) > _MAX_MID_QMARKS:
        return None
    for lost in itertools.product((False, True), repeat=len(qmarks)):
        slots = _layout(run, {i for i, is_lost in zip(qmarks, lost) if is_lost})
        reading = None if slots is None else _decode(slots, left, right)
        if slots is None or reading is None:
            continue
        if reading.score + run.prior - as_is > _GAP_SEARCH_ABOVE:
            reading = _with_gaps(slots, reading, left, right)
        if best is None or reading.score > best.score:
            best = reading
    return None if best is None else (best.score + run.prior - as_is, best)


def _may_start(text: str, i: int) -> bool:
    """A "?" that may be a lost lead byte.

    Not after a Latin letter or digit (English, a query string), and never a
    U+FFFD: that is how repaired text marks what it could not recover, and
    reading it again must change nothing.
    """
    return text[i] == "?" and not (i and text[i - 1].isascii() and text[i - 1].isalnum())


def _marked_runs(text: str, i: int) -> list[_Run]:
    """Runs whose lost lead byte shows as the "?" at i.

    A real question mark may stand just before a run ("吗?工?淌"): runs from
    the next few "?" compete too, and the winner may leave this one alone.
    """
    if not _may_start(text, i):
        return []
    starts = [j for j in range(i, min(len(text), i + _LOOKAHEAD)) if _may_start(text, j)]
    return [run for j in starts for run in _runs_from(text, j)]


def _unmarked_runs(text: str, i: int) -> list[_Run]:
    """Runs ending in the lost trail byte at the "?" at i whose lost lead byte left no mark.

    Only where the characters before the "?" read badly; each start from
    ``_MIN_UNMARKED`` to ``_MAX_UNMARKED`` characters back is tried (with no
    "?" to mark the start, a shorter run is too easily a rare name).
    """
    if text[i] != "?" or i < 2 or not charmodel.is_han(text[i - 1]):
        return []
    before = text[max(0, i - _SCREEN) : i]
    if charmodel.text_logp(before) / len(before) > _SCREEN_BELOW:
        return []
    runs: list[_Run] = []
    for start in range(i - 1, max(-1, i - 1 - _MAX_UNMARKED), -1):
        if text[start].isascii() or text[start] in _QMARKS or _two_bytes(text[start]) is None:
            break
        if i - start >= _MIN_UNMARKED:
            runs.append(_Run(start, i + 1, tuple(text[start:i]), "?", _LOG_PRIOR_RUN + _LOG_PRIOR_UNMARKED))
    return runs


def _repair_pass(text: str, runs_at: Callable[[str, int], list[_Run]]) -> tuple[str, int, int]:
    """Replace the best-reading candidate run found at each position, left to right."""
    out: list[str] = []
    pos = i = runs = unrecoverable = 0
    while i < len(text):
        candidates = [run for run in runs_at(text, i) if run.start >= pos]
        best: tuple[float, _Run, _Reading] | None = None
        if candidates:
            span = _context_span(text, min(r.start for r in candidates), max(r.end for r in candidates))
            for run in candidates:
                found = _best_reading(text, run, span)
                if found is not None and found[0] > 0 and (best is None or found[0] > best[0]):
                    best = (found[0], run, found[1])
        if best is None:
            i += 1
            continue
        _, run, reading = best
        repaired = "".join(_REPLACEMENT if unsure else ch for ch, unsure in zip(reading.chars, reading.unsure))
        out += [text[pos : run.start], repaired]
        runs += 1
        unrecoverable += sum(reading.unsure)
        pos = i = run.end
    out.append(text[pos:])
    return "".join(out), runs, unrecoverable


def repair_misaligned_gbk(text: str) -> MojibakeRepair:
    """Find and repair byte-misaligned GBK runs; clean text comes back unchanged."""
    if "?" not in text:
        return MojibakeRepair(text, 0, 0)
    text, runs, lost = _repair_pass(text, _marked_runs)
    text, more_runs, more_lost = _repair_pass(text, _unmarked_runs)
    return MojibakeRepair(text, runs + more_runs, lost + more_lost)
