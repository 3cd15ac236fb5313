"""Distributions: the Gaussian posterior, priors p(z) and likelihoods p(x | z).

>>> from latentkit.distributions import build_likelihood, build_prior
>>> likelihood = build_likelihood("bernoulli", (1, 28, 28))
>>> prior = build_prior("normal", 16, (1, 28, 28))

Registries map names to classes (``LIKELIHOODS``, ``PRIORS``); each class builds itself from
the shared options through ``from_options``, so adding one is adding a dict entry.
"""

from __future__ import annotations

from latentkit.distributions.gaussian import LOG_VAR_MAX, LOG_VAR_MIN, DiagonalGaussian
from latentkit.distributions.likelihoods import (
    BernoulliLikelihood,
    ContinuousBernoulliLikelihood,
    GaussianLikelihood,
    LearnedScaleGaussianLikelihood,
    Likelihood,
    OptimalSigmaGaussianLikelihood,
)
from latentkit.distributions.posterior import Posterior
from latentkit.distributions.priors import (
    MixtureOfGaussiansPrior,
    Prior,
    StandardNormalPrior,
    VampPrior,
)
from latentkit.errors import ConfigError

__all__ = [
    "LIKELIHOODS",
    "LOG_VAR_MAX",
    "LOG_VAR_MIN",
    "PRIORS",
    "BernoulliLikelihood",
    "ContinuousBernoulliLikelihood",
    "DiagonalGaussian",
    "GaussianLikelihood",
    "LearnedScaleGaussianLikelihood",
    "Likelihood",
    "MixtureOfGaussiansPrior",
    "OptimalSigmaGaussianLikelihood",
    "Posterior",
    "Prior",
    "StandardNormalPrior",
    "VampPrior",
    "build_likelihood",
    "build_prior",
]

LIKELIHOODS: dict[str, type[Likelihood]] = {
    cls.name: cls
    for cls in (
        BernoulliLikelihood,
        GaussianLikelihood,
        LearnedScaleGaussianLikelihood,
        OptimalSigmaGaussianLikelihood,
        ContinuousBernoulliLikelihood,
    )
}
PRIORS: dict[str, type[Prior]] = {
    cls.name: cls for cls in (StandardNormalPrior, MixtureOfGaussiansPrior, VampPrior)
}


def build_likelihood(
    name: str,
    input_shape: tuple[int, ...],
    *,
    scale: float = 1.0,
    per_dimension: bool = False,
) -> Likelihood:
    """Build a likelihood by registry name.

    Parameters
    ----------
    name : str
        One of ``LIKELIHOODS``: bernoulli, gaussian, learned_gaussian, optimal_gaussian,
        continuous_bernoulli.
    input_shape : tuple of int
        Shape of one data point.
    scale : float
        The fixed standard deviation of ``"gaussian"``.
    per_dimension : bool
        ``"learned_gaussian"``: one learned scale per data element instead of one global.

    Raises
    ------
    ConfigError
        On an unknown name (the message lists the known ones) or a bad option.
    """
    if name not in LIKELIHOODS:
        raise ConfigError(f"unknown likelihood {name!r}; choose one of {', '.join(LIKELIHOODS)}.")
    return LIKELIHOODS[name].from_options(
        tuple(input_shape), scale=scale, per_dimension=per_dimension
    )


def build_prior(
    name: str, latent_dim: int, input_shape: tuple[int, ...], *, n_components: int = 10
) -> Prior:
    """Build a prior by registry name (``"normal"``, ``"mog"`` or ``"vamp"``).

    ``n_components`` is the number of mixture components or pseudo-inputs; ``input_shape`` is
    used by the VampPrior for its pseudo-inputs.

    Raises
    ------
    ConfigError
        On an unknown name (the message lists the known ones) or a bad option.
    """
    if name not in PRIORS:
        raise ConfigError(f"unknown prior {name!r}; choose one of {', '.join(PRIORS)}.")
    return PRIORS[name].from_options(latent_dim, tuple(input_shape), n_components=n_components)
