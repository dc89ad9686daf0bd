"""Plotting: draws data computed elsewhere (or a user's network, through the library's own
measurement functions); one module per kind of picture.

- :mod:`~lowrank_rnn.plotting.spectrum` — eigenvalues with the predicted bulk circle and outlier
- :mod:`~lowrank_rnn.plotting.flow` — latent flow fields, speed maps, fixed points and slow points
- :mod:`~lowrank_rnn.plotting.populations` — loadings coloured by population
- :mod:`~lowrank_rnn.plotting.trajectories` — latent trajectories, task outputs against targets
- :mod:`~lowrank_rnn.plotting.psychometric` — psychometric curves
- :mod:`~lowrank_rnn.plotting.curves` — measured mean ± sd against theory, training curves,
  errors by size

Every function draws on a matplotlib ``Axes`` given by the caller and returns nothing (or what it
measured); figures are made and saved by the caller.
"""

from lowrank_rnn.plotting.curves import plot_mean_sd, plot_test_mse_by_size, plot_training_curves
from lowrank_rnn.plotting.flow import (
    FIXED_POINT_MARKERS,
    plot_fixed_points,
    plot_flow_field,
    plot_latent_field_1d,
    plot_slow_points,
    plot_speed,
)
from lowrank_rnn.plotting.populations import plot_loadings
from lowrank_rnn.plotting.psychometric import plot_psychometric
from lowrank_rnn.plotting.spectrum import plot_eigenvalues, plot_spectrum
from lowrank_rnn.plotting.trajectories import plot_latent_trajectories, plot_task_outputs

__all__ = [
    "FIXED_POINT_MARKERS",
    "plot_eigenvalues",
    "plot_fixed_points",
    "plot_flow_field",
    "plot_latent_field_1d",
    "plot_loadings",
    "plot_latent_trajectories",
    "plot_mean_sd",
    "plot_psychometric",
    "plot_slow_points",
    "plot_speed",
    "plot_spectrum",
    "plot_task_outputs",
    "plot_test_mse_by_size",
    "plot_training_curves",
]
