"""The aggregate posterior q(z) = (1/N) sum_n q(z | x_n) and its total correlation, estimated
on a minibatch.

Chen, Li, Grosse and Duvenaud 2018, "Isolating sources of disentanglement in variational
autoencoders" (beta-TCVAE): with minibatch-weighted sampling (MWS, their eq. 5), for codes
``z_i`` drawn from the posteriors of a batch of M points out of a dataset of N,

    log q(z_i)     ~ logsumexp_j log q(z_i | x_j)         - log(N M)
    log q(z_i,d)   ~ logsumexp_j log q(z_i,d | x_j,d)      - log(N M)      for each dim d

and the total correlation ``TC = KL(q(z) || prod_d q(z_d))`` is estimated per sample by
``log q(z_i) - sum_d log q(z_i,d)``. The constant ``(D - 1) log(N M)`` does not change the
gradients; it sets the estimate's level. With ``dataset_size=None`` the batch is taken as the
whole population (N = M, then ``log(N M)`` is replaced by ``log M``: each point weighs 1/M),
which is exact for the mixture of the batch's posteriors.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["pairwise_log_density", "total_correlation"]

_LOG_2PI = math.log(2 * math.pi)


def pairwise_log_density(z: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """``log q(z_i,d | x_j)`` for every code i, posterior j and dimension d: shape (M, M, D).

    Parameters
    ----------
    z : Tensor of shape (M, D)
    mean, log_var : Tensor of shape (M, D)
        The diagonal Gaussian posteriors q(z | x_j).
    """
    diff = z[:, None, :] - mean[None, :, :]  # (M, M, D)
    return -0.5 * (_LOG_2PI + log_var[None] + diff.square() * torch.exp(-log_var[None]))


def total_correlation(
    z: Tensor, mean: Tensor, log_var: Tensor, dataset_size: int | None = None
) -> Tensor:
    """Per-sample MWS estimate of the total correlation of q(z): shape (M,).

    Parameters
    ----------
    z : Tensor of shape (M, D)
        One draw from each posterior of the batch.
    mean, log_var : Tensor of shape (M, D)
    dataset_size : int, optional
        N, the size of the dataset the batch was drawn from; None: the batch is the population.

    Returns
    -------
    Tensor of shape (M,)
        ``log q(z_i) - sum_d log q(z_i,d)``; its mean estimates TC (nats).
    """
    m = z.shape[0]
    log_qzx = pairwise_log_density(z, mean, log_var)  # (M, M, D)
    log_norm = math.log(m) if dataset_size is None else math.log(dataset_size * m)
    log_qz = torch.logsumexp(log_qzx.sum(2), dim=1) - log_norm  # (M,)
    log_qz_dims = torch.logsumexp(log_qzx, dim=1) - log_norm  # (M, D)
    return log_qz - log_qz_dims.sum(1)
