"""Predictions of the theory: spectra (outlier and bulk), the Gaussian-mixture mean field and its
rank-one special case, fixed points, and linearisation (activations vs activities).

One Gaussian closure serves them all: :func:`lowrank_rnn.theory.meanfield.gaussian_averages`.
"""
