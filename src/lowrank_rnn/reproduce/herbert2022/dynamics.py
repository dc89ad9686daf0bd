"""Herbert & Ostojic 2022, Figs 4–6 (dynamics, regimes, Go/Nogo task)."""

from lowrank_rnn.reproduce._core import FigureSpec

FIGURES: tuple[FigureSpec, ...] = ()
