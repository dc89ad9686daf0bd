"""Herbert & Ostojic 2022: sparse low-rank networks — spectra (Figs 1–3) and dynamics (Figs 4–6)."""

from lowrank_rnn.reproduce._core import Paper
from lowrank_rnn.reproduce.herbert2022.dynamics import FIGURES as _DYNAMICS
from lowrank_rnn.reproduce.herbert2022.spectra import FIGURES as _SPECTRA

CITATION = (
    "Herbert E., Ostojic S. (2022) The impact of sparsity in low-rank recurrent neural networks. "
    "PLoS Comput Biol 18(8): e1010426. doi:10.1371/journal.pcbi.1010426"
)

PAPER = Paper(key="herbert2022", citation=CITATION, figures=tuple(_SPECTRA) + tuple(_DYNAMICS))
