"""lowrank-rnn: build, analyse, simulate and train low-rank recurrent neural networks.

The core objects:

- :class:`~lowrank_rnn.network.LowRankRNN` — the network structure (immutable dataclass of arrays)
- :mod:`lowrank_rnn.connectivity` — builders (Gaussian, low-rank loadings, mixtures, sparsity)
- :mod:`lowrank_rnn.theory.spectrum` — eigenvalues, ARPACK outliers, bulk radius, theory
- :func:`lowrank_rnn.simulate.simulate` — one entry point for batched integration
- :func:`lowrank_rnn.save` / :func:`lowrank_rnn.load` — every object to disk and back
  (:mod:`lowrank_rnn.io`: one open, versioned format; no pickle)
- :class:`lowrank_rnn.torch.LowRankModule` — the network as a PyTorch module (needs torch)
"""

__version__ = "0.1.0"

from lowrank_rnn.io import load, save  # noqa: E402
from lowrank_rnn.network import LowRankRNN  # noqa: E402

__all__ = ["LowRankRNN", "load", "save", "__version__"]
