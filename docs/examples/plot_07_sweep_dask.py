"""
A parameter sweep on Dask
=========================

:func:`~lowrank_rnn.sweep.run_sweep` runs a function over a grid of parameters times seeds,
serially or on a Dask cluster, and returns an :class:`xarray.Dataset`. Here: the spectral
radius of sparse Gaussian matrices against ``g sqrt(1 - s)`` (Herbert & Ostojic 2022, eq 6,
Fig 1C), on a local cluster of two worker processes. The paper uses N = 1000 and 50 seeds.
"""

# %%
import matplotlib.pyplot as plt

from lowrank_rnn.plotting import plot_mean_sd
from lowrank_rnn.reproduce.herbert2022.points import gaussian_radius_point
from lowrank_rnn.sweep import run_sweep

if __name__ == "__main__":  # Dask's worker processes import this file: start them only here
    ds = run_sweep(
        gaussian_radius_point,                          # f(**fixed, **grid point, seed=seed)
        {"sparsity": [0.0, 0.2, 0.4, 0.6, 0.8]},        # one dimension per parameter
        6,                                              # seeds 0..5
        fixed={"n_neurons": 300, "g": 1.0},
        workers=2,                                      # a LocalCluster of 2 processes
        progress=False,
    )
    print(ds)

    #
    # One data variable per output, dimensions (grid..., seed).
    fig, ax = plt.subplots(layout="constrained", figsize=(5.5, 4))
    s = ds["sparsity"].values
    plot_mean_sd(ax, s, ds["radius"].values, ds["theory_radius"].values[:, 0],
                 label="measured (mean ± sd over seeds)")
    ax.set_xlabel("sparsity s")
    ax.set_ylabel("spectral radius")
    ax.set_title("sparse Gaussian matrices: radius vs eq 6")
    ax.legend()
    plt.show()
