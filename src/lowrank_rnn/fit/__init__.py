"""Fitting low-rank RNNs: closed-form regression, OMP, and BPTT (PyTorch)."""
