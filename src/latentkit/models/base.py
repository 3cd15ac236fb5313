"""The model contract every latentkit model implements (see DESIGN.md, "The model contract").

A model is a ``torch.nn.Module`` built from a frozen config (``model.config``). It encodes
deterministically, decodes to the mean of p(x | z) in data space, and returns its training loss
as a :class:`LossOutput` whose terms are **per sample**, so that anomaly scoring, evaluation and
reports reuse them without recomputing. Persistence is config JSON + safetensors weights
(:mod:`latentkit.models.persistence`): never pickle.

What a model can do beyond the contract is *declared* on its class as :class:`Capabilities`
(``model.capabilities.generative``, ``.conditional``, ``.classifier``, ...). Callers read those
flags instead of probing with ``hasattr`` or comparing ``model_type`` strings; a test checks
that every registered model implements what it declares.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from latentkit.config import Config
from latentkit.distributions import Likelihood, Posterior

__all__ = [
    "AbstractGenerativeModel",
    "AbstractModel",
    "Capabilities",
    "LossOutput",
    "repeat_samples",
]


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a model class can do beyond encode / decode / reconstruct / loss.

    Attributes
    ----------
    generative : bool
        ``sample(n)`` draws from a prior and ``posterior(x)`` gives q(z | x) (the VAE family:
        :class:`AbstractGenerativeModel`).
    likelihood_bound : bool
        ``log_importance_weights(x, k)`` gives ``log p(x, z) - log q(z | x)`` for k posterior
        draws: the ELBO and the IWAE estimate of ``log p(x)`` are available.
    gaussian_posterior : bool
        q(z | x) is a diagonal Gaussian with ``kl_per_dim()``; codes live on the N(0, I) scale
        (KL per dimension, active units and latent traversals make sense).
    conditional : bool
        ``loss``, ``encode``, ``decode`` and ``sample`` take integer labels ``y``;
        ``loss`` needs them (``needs_labels``).
    classifier : bool
        ``predict(x)`` and ``class_logits(x)`` classify (M2's q(y | x)).
    decoder_likelihood : bool
        ``decoder_params(z)`` and ``likelihood`` expose p(x | z) for gradient-based inference
        in latent space (inpainting by latent optimisation).
    sequence : bool
        The data are token ids ``(N, L)`` held as float32 (:mod:`latentkit.data.sequences`):
        ``decode`` and ``sample`` return ids, ``model.tokenizer`` turns them into strings.
    auxiliary_step : bool
        The model trains a second network with its own objective and optimiser (FactorVAE's
        discriminator): ``auxiliary_parameters()`` lists its parameters, which the trainer
        leaves out of the main optimiser; ``auxiliary_optimizer()`` builds the optimiser over
        them; ``auxiliary_loss(x, y=..., generator=...)`` is the scalar the trainer minimises
        with it after every step of ``loss``.
    missing_values : bool
        NaN entries of the input are missing values that the model handles itself (its loss
        sums the observed entries only); the trainer lets them through.
    tabular : bool
        Inputs are the ``(N, C)`` codes of a mixed table
        (:class:`latentkit.data.schema.TableSchema`), one per column; ``likelihood`` is a
        per-column mix.
    """

    generative: bool = False
    likelihood_bound: bool = False
    gaussian_posterior: bool = False
    conditional: bool = False
    classifier: bool = False
    decoder_likelihood: bool = False
    sequence: bool = False
    auxiliary_step: bool = False
    missing_values: bool = False
    tabular: bool = False


def repeat_samples(x: Tensor, k: int) -> Tensor:
    """``(N, ...)`` to ``(k * N, ...)``, sample-major: row ``i * N + n`` is ``x[n]``.

    Lines the data up with ``k`` posterior samples flattened from ``(k, N, D)``.
    """
    return x.expand(k, *x.shape).reshape(k * x.shape[0], *x.shape[1:])


def _without_graph(method: Any) -> Any:
    """``method`` run under ``torch.no_grad()`` (its outputs carry no autograd graph)."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with torch.no_grad():
            return method(*args, **kwargs)

    wrapper._no_grad = True  # type: ignore[attr-defined]
    return wrapper


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

    Subclasses set ``model_type`` (the registry key written into ``config.json``),
    ``config_class`` and ``capabilities``, and take their config as the only constructor
    argument.

    Attributes
    ----------
    config : Config
        The frozen config the model was built from.
    metadata : dict
        JSON metadata saved beside the config (``config.json``'s ``"extra"``: the training
        config, the data transform, ...); empty for a model that was never saved or loaded.
    """

    model_type: ClassVar[str]
    config_class: ClassVar[type[Config]]
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: Inference methods whose results carry no autograd graph (wrapped in ``no_grad`` for
    #: every subclass that defines them): ``model.encode(x).numpy()`` just works. Training
    #: goes through ``loss``; gradient-based inference through ``decoder_params``.
    _INFERENCE_METHODS: ClassVar[tuple[str, ...]] = ("encode", "decode", "reconstruct", "sample")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls._INFERENCE_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_no_grad", False):
                setattr(cls, name, _without_graph(method))

    def __init__(self, config: Config) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} expects a {self.config_class.__name__}, "
                f"got {type(config).__name__}."
            )
        self.config = config
        self.metadata: dict[str, Any] = {}

    @property
    def needs_labels(self) -> bool:
        """True when ``loss`` needs labels ``y`` (``capabilities.conditional``)."""
        return self.capabilities.conditional

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

    # -- the auxiliary step (only for capabilities.auxiliary_step) -------------------------
    def auxiliary_parameters(self) -> list[nn.Parameter]:
        """The parameters of the auxiliary network, left out of the main optimiser."""
        raise NotImplementedError(f"{type(self).__name__} declares no auxiliary step.")

    def auxiliary_optimizer(self) -> torch.optim.Optimizer:
        """The optimiser of the auxiliary network."""
        raise NotImplementedError(f"{type(self).__name__} declares no auxiliary step.")

    def auxiliary_loss(
        self, x: Tensor, *, y: Tensor | None = None, generator: torch.Generator | None = None
    ) -> Tensor:
        """The scalar the auxiliary optimiser minimises on a batch ``x``."""
        raise NotImplementedError(f"{type(self).__name__} declares no auxiliary step.")

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
        """Where data must lie for the loss to make sense, ``(low, high)``; None when any real
        value is fine. Models with a likelihood return its declared ``support``."""
        return None

    @property
    def loss_name(self) -> str:
        """A short name of the data term of the loss, for messages (e.g. ``"bernoulli"``)."""
        return "reconstruction"

    @property
    def code_range(self) -> tuple[float, float] | None:
        """Bounds of every code value, ``(low, high)``; None for unbounded (real) codes."""
        return None

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
    """A model with a prior to sample from and a likelihood p(x | z) (the VAE family).

    Subclasses build ``self.likelihood`` (a :class:`~latentkit.distributions.Likelihood`).
    """

    capabilities: ClassVar[Capabilities] = Capabilities(generative=True, likelihood_bound=True)
    likelihood: Likelihood

    @property
    def data_range(self) -> tuple[float, float] | None:
        return self.likelihood.support

    @property
    def loss_name(self) -> str:
        return f"{self.likelihood.name} likelihood"

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
    def posterior(self, x: Tensor, y: Tensor | None = None) -> Posterior:
        """q(z | x): a :class:`~latentkit.distributions.Posterior` (``.mean``, ``.sample``,
        ``.kl``, ``.log_prob``) over codes of shape ``(N, latent_dim)``."""

    @abc.abstractmethod
    def log_importance_weights(
        self,
        x: Tensor,
        k: int,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        generator: torch.Generator | None = None,
        kl_weight: float = 1.0,
    ) -> Tensor:
        """``log p(x, z_i) - log q(z_i | x)`` for ``k`` posterior draws ``z_i``: shape ``(k, N)``.

        ``logsumexp`` over the first axis minus ``log k`` is the IWAE bound (Burda et al.
        2015); its mean is the ELBO. ``kl_weight`` scales ``log p(z) - log q(z | x)``.
        """
