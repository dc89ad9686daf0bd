"""Models that stand beside the low-rank RNN: the latent linear dynamical system and the linear
low-rank RNN it is equivalent to (Valente et al. 2022), with the Kalman filter;
and models of the Ostojic lab's ``low_rank_rnns`` package converted in and out
(:mod:`.low_rank_rnns`)."""
