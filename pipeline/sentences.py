"""Sentence splitting of ``text_final`` with HanLP's rule-based splitter, plus offsets."""

from __future__ import annotations

from pipeline.model import Sentence


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of every paragraph (line); each ``text[start:end] == sentence.text``."""
    from hanlp.utils.rules import split_sentence  # light module: regexes only, no torch

    sentences: list[Sentence] = []
    line_start = 0
    for line in text.split("\n"):
        cursor = line_start
        for piece in split_sentence(line):
            piece = piece.strip()
            if not piece:
                continue
            start = text.find(piece, cursor, line_start + len(line))
            if start < 0:  # the splitter altered the text; fall back to the whole rest of the line
                start = cursor
                piece = text[cursor : line_start + len(line)].strip()
                if not piece:
                    break
                start = text.find(piece, cursor)
            end = start + len(piece)
            sentences.append(Sentence(len(sentences), start, end, piece))
            cursor = end
        line_start += len(line) + 1
    return sentences
