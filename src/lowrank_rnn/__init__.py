"""lowrank-rnn: build, analyse, simulate and train low-rank recurrent neural networks.

The core objects:

- :class:`~lowrank_rnn.network.LowRankRNN` — the network structure (immutable dataclass of arrays)
- :mod:`lowrank_rnn.connectivity` — builders (Gaussian, low-rank loadings, mixtures, sparsity)
- :mod:`lowrank_rnn.theory.spectrum` — eigenvalues, ARPACK outliers, bulk radius, theory
- :func:`lowrank_rnn.simulate.simulate` — one entry point for batched integration
"""

from lowrank_rnn.network import LowRankRNN

__version__ = "0.1.0"

__all__ = ["LowRankRNN", "__version__"]
