"""Beiran et al. 2021: Gaussian-mixture low-rank networks — the paper's Figs 4, 6 and 7
(:mod:`.figures`), the trained timing task of Figs 8–9 (:mod:`.timing`), and example figures
of ours that add checks the paper's do not
(:mod:`.examples`: mean field against finite N, one population's cycle, the effective circuit
of two populations)."""

from lowrank_rnn.reproduce._core import Paper
from lowrank_rnn.reproduce.beiran2021.examples import (
    FIGURES as _EXAMPLES,
)
from lowrank_rnn.reproduce.beiran2021.examples import (
    KEY,
    compute_convergence,
    compute_one_population,
    compute_two_populations,
    convergence_point,
    fixed_point_tolerance,
    sampled_effective_coupling,
    slope_with_error,
    symmetric_mixture,
    two_population_mixture,
)
from lowrank_rnn.reproduce.beiran2021.figures import FIGURES as _PAPER_FIGURES
from lowrank_rnn.reproduce.beiran2021.timing import FIGURES as _TIMING_FIGURES

CITATION = (
    "Beiran M., Dubreuil A., Valente A., Mastrogiuseppe F., Ostojic S. (2021) Shaping dynamics "
    "with multiple populations in low-rank recurrent networks. Neural Computation 33(6): "
    "1572–1615. arXiv:2007.02062"
)

FIGURES = tuple(_PAPER_FIGURES) + tuple(_TIMING_FIGURES) + tuple(_EXAMPLES)
PAPER = Paper(key=KEY, citation=CITATION, figures=FIGURES)

__all__ = [
    "CITATION",
    "FIGURES",
    "KEY",
    "PAPER",
    "compute_convergence",
    "compute_one_population",
    "compute_two_populations",
    "convergence_point",
    "fixed_point_tolerance",
    "sampled_effective_coupling",
    "slope_with_error",
    "symmetric_mixture",
    "two_population_mixture",
]
