"""Fitting low-rank RNNs: closed-form regression in a random basis and OMP (:mod:`.regression`,
:mod:`.omp`) on the target ODEs of :mod:`.targets`, BPTT with PyTorch (:mod:`.bptt`), their
comparison (:mod:`.compare`), latent LDS / reduced-rank fits to data (:mod:`.lds`) and
Gaussian-mixture population statistics (:mod:`.populations`)."""
