"""Evaluation: the one evaluation path, likelihood estimates, posterior diagnostics, metrics."""

from latentkit.evaluation.diagnostics import active_units, kl_per_dimension, posterior_means
from latentkit.evaluation.disentanglement import (
    DCI,
    dci,
    factor_vae_score,
    latent_factors,
    mig,
    mutual_information,
    normalized_mutual_information,
    sap,
)
from latentkit.evaluation.evaluate import Evaluation, batched, batches, eval_mode, evaluate
from latentkit.evaluation.likelihood import elbo, log_likelihood

__all__ = [
    "DCI",
    "Evaluation",
    "active_units",
    "batched",
    "batches",
    "dci",
    "elbo",
    "eval_mode",
    "evaluate",
    "factor_vae_score",
    "kl_per_dimension",
    "latent_factors",
    "log_likelihood",
    "mig",
    "mutual_information",
    "normalized_mutual_information",
    "posterior_means",
    "sap",
]
