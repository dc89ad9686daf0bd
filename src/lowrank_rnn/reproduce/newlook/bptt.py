"""Figures of 'A new look at low-rank RNNs' (filled in by their issue)."""

from lowrank_rnn.reproduce._core import FigureSpec

FIGURES: tuple[FigureSpec, ...] = ()
