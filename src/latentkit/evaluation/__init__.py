"""Evaluation: the one evaluation path, likelihood estimates, posterior diagnostics, metrics."""

from latentkit.evaluation.diagnostics import active_units, kl_per_dimension, posterior_means
from latentkit.evaluation.evaluate import Evaluation, batched, batches, eval_mode, evaluate
from latentkit.evaluation.likelihood import elbo, log_likelihood

__all__ = [
    "Evaluation",
    "active_units",
    "batched",
    "batches",
    "elbo",
    "eval_mode",
    "evaluate",
    "kl_per_dimension",
    "log_likelihood",
    "posterior_means",
]
