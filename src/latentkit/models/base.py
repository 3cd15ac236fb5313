"""The model contract every latentkit model implements (see DESIGN.md, "The model contract").

A model is a ``torch.nn.Module`` built from a frozen config (``model.config``). It encodes
deterministically, decodes to the mean of p(x | z) in data space, and returns its training loss
as a :class:`LossOutput` whose terms are **per sample**, so that anomaly scoring, evaluation and
reports reuse them without recomputing. Persistence is config JSON + safetensors weights
(:mod:`latentkit.models.persistence`): never pickle.
"""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from latentkit.config import Config

__all__ = ["AbstractGenerativeModel", "AbstractModel", "LossOutput", "repeat_samples"]


def repeat_samples(x: Tensor, k: int) -> Tensor:
    """``(N, ...)`` to ``(k * N, ...)``, sample-major: row ``i * N + n`` is ``x[n]``.

    Lines the data up with ``k`` posterior samples flattened from ``(k, N, D)``.
    """
    return x.expand(k, *x.shape).reshape(k * x.shape[0], *x.shape[1:])


@dataclasses.dataclass
class LossOutput:
    """A training objective with its per-sample terms.

    Attributes
    ----------
    loss : Tensor of shape ()
        The scalar to minimise (a batch mean).
    reconstruction : Tensor of shape (N,)
        Per-sample negative log-likelihood (or reconstruction error) of the data.
    kl : Tensor of shape (N,) or None
        Per-sample KL divergence (or its Monte Carlo estimate); ``None`` for plain autoencoders.
    terms : dict of str to Tensor of shape (N,)
        Further per-sample terms (penalties, classification loss, ...), logged by the trainer.
    """

    loss: Tensor
    reconstruction: Tensor
    kl: Tensor | None = None
    terms: dict[str, Tensor] = dataclasses.field(default_factory=dict)

    def per_sample(self) -> dict[str, Tensor]:
        """All per-sample terms by name, ``reconstruction`` and ``kl`` included."""
        out = {"reconstruction": self.reconstruction}
        if self.kl is not None:
            out["kl"] = self.kl
        out.update(self.terms)
        return out


class AbstractModel(nn.Module, abc.ABC):
    """Base of every model: deterministic codes, decoding, a per-sample loss, save/load.

    Subclasses set ``model_type`` (the registry key written into ``config.json``) and
    ``config_class``, and take their config as the only constructor argument.
    """

    model_type: ClassVar[str]
    config_class: ClassVar[type[Config]]
    #: True when ``loss`` needs labels ``y`` (conditional and semi-supervised models).
    needs_labels: ClassVar[bool] = False

    def __init__(self, config: Config) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} expects a {self.config_class.__name__}, "
                f"got {type(config).__name__}."
            )
        self.config = config

    # -- the contract -------------------------------------------------------------------
    @abc.abstractmethod
    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """Deterministic codes of shape ``(N, latent_dim)`` (the posterior mean for a VAE)."""

    @abc.abstractmethod
    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """The mean of p(x | z) in data space, shaped like the data: ``(N, *input_shape)``."""

    @abc.abstractmethod
    def loss(
        self,
        x: Tensor,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        """The training objective on a batch.

        Parameters
        ----------
        x : Tensor of shape (N, *input_shape)
            The (possibly corrupted) input fed to the encoder.
        y : Tensor of shape (N,), optional
            Integer labels, for models with ``needs_labels``; -1 marks an unlabelled row.
        target : Tensor of shape (N, *input_shape), optional
            What the decoder should reproduce; defaults to ``x`` (set it for denoising).
        step : int, optional
            Global optimisation step, for warm-up and annealing schedules.
        generator : torch.Generator, optional
            Source of randomness for sampling (reparameterization noise).
        """

    def reconstruct(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``decode(encode(x))``: shape ``(N, *input_shape)``."""
        return self.decode(self.encode(x, y), y)

    # -- shape facts ----------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one data point, e.g. ``(1, 28, 28)`` or ``(D,)``."""
        return tuple(self.config.input_shape)  # type: ignore[attr-defined]

    @property
    def latent_dim(self) -> int:
        """Size of the code returned by ``encode``."""
        return int(self.config.latent_dim)  # type: ignore[attr-defined]

    @property
    def data_range(self) -> tuple[float, float] | None:
        """Where data must lie for the likelihood to make sense: (0, 1) for Bernoulli-type
        likelihoods and BCE; None when any real value is fine."""
        name = getattr(self.config, "likelihood", None) or getattr(
            self.config, "reconstruction", ""
        )
        return (0.0, 1.0) if name in ("bernoulli", "continuous_bernoulli", "bce") else None

    @property
    def device(self) -> torch.device:
        """Device of the model's parameters."""
        return next(self.parameters()).device

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into the folder ``path``.

        ``extra`` holds JSON metadata stored beside the config (e.g. the data transform).
        """
        from latentkit.models.persistence import save_model

        return save_model(self, path, extra=extra)

    @classmethod
    def from_config(cls, config: Config) -> AbstractModel:
        """Build an untrained model from its config."""
        return cls(config)


class AbstractGenerativeModel(AbstractModel):
    """A model with a prior to sample from (the VAE family)."""

    @abc.abstractmethod
    def sample(
        self,
        n: int,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        y: Tensor | int | None = None,
    ) -> Tensor:
        """Draw ``n`` new data points, shape ``(n, *input_shape)`` (decoded means)."""

    @abc.abstractmethod
    def posterior(self, x: Tensor, y: Tensor | None = None) -> Any:
        """q(z | x): a distribution with ``.mean``, ``.sample``, ``.kl`` and ``.log_prob``."""
