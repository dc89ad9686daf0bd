""""A new look at low-rank RNNs": closed-form embedding (Figs 1–4) and BPTT (Fig 5)."""

from lowrank_rnn.reproduce._core import Paper
from lowrank_rnn.reproduce.newlook.bptt import FIGURES as _BPTT
from lowrank_rnn.reproduce.newlook.embedding import FIGURES as _EMBEDDING

CITATION = (
    "A new look at low-rank recurrent neural networks (closed-form training by regression in a "
    "random basis, orthogonal matching pursuit, comparison with BPTT)."
)

PAPER = Paper(key="newlook", citation=CITATION, figures=tuple(_EMBEDDING) + tuple(_BPTT))
