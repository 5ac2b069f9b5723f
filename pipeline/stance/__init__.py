"""Stage 6, stance: bullish / skeptical / neutral (/ mixed) about the Chinese AI-chip industry,
per sentence and per article, with the evidence that decided it. See ``score.py``."""

from pipeline.stance.score import ArticleStance, SentenceStance, aggregate, score_sentence

__all__ = ["ArticleStance", "SentenceStance", "aggregate", "score_sentence"]
