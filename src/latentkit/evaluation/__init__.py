"""Evaluation: likelihood estimates and posterior diagnostics (metrics join in apps work)."""

from latentkit.evaluation.diagnostics import active_units, kl_per_dimension, posterior_means
from latentkit.evaluation.likelihood import elbo, log_likelihood

__all__ = ["active_units", "elbo", "kl_per_dimension", "log_likelihood", "posterior_means"]
