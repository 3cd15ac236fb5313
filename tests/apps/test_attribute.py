"""Attribute vectors on a linear autoencoder whose answer is known in closed form.

The encoder is ``z = W x`` with orthonormal rows W (2 x 4) and the decoder ``x = W^T z``. Data
points lie in the row space of W; the "positive" group is the "negative" group shifted by a
direction d in that space. So the attribute vector must be exactly ``W d``, and adding it to a
negative point with strength s must decode to ``x + s d``.
"""

from __future__ import annotations

import pytest
import torch

from latentkit.apps import latent
from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
from latentkit.nn import NetworkConfig


@pytest.fixture
def linear_model() -> tuple[Autoencoder, torch.Tensor]:
    config = AutoencoderConfig(
        input_shape=(4,), latent_dim=2, network=NetworkConfig(hidden=()), reconstruction="mse"
    )
    model = Autoencoder(config)
    w = torch.tensor([[0.6, 0.8, 0.0, 0.0], [0.0, 0.0, 0.8, -0.6]])  # orthonormal rows
    with torch.no_grad():
        model.encoder.mlp.net[0].weight.copy_(w)
        model.encoder.mlp.net[0].bias.zero_()
        model.decoder.mlp.net[0].weight.copy_(w.T)
        model.decoder.mlp.net[0].bias.zero_()
    return model.eval(), w


def _points(w: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(n, 2, generator=generator) @ w  # (n, 4) in the row space of W


def test_vector_is_the_shift_and_edits_decode_to_shifted_points(linear_model) -> None:
    model, w = linear_model
    g = torch.Generator().manual_seed(0)
    d = torch.tensor([1.5, -0.5]) @ w  # a direction in data space, (4,)
    neutral = _points(w, 40, g)
    # positives: a different random set, shifted by d; the group means differ by d + noise
    smiling = _points(w, 60, g) + d
    x = torch.cat([neutral, smiling])
    labels = torch.cat([torch.zeros(40), torch.ones(60)]).long()
    vector = latent.attribute_vector(model, x, labels, positive=1, negative=0, batch_size=7)
    expected = (smiling.mean(0) - neutral.mean(0)) @ w.T
    torch.testing.assert_close(vector, expected, atol=1e-5, rtol=0)
    # exact known answer: with equal groups (the same points shifted) the vector is W d
    paired = torch.cat([neutral, neutral + d])
    twice = torch.cat([torch.zeros(40), torch.ones(40)]).long()
    exact = latent.attribute_vector(model, paired, twice)
    torch.testing.assert_close(exact, torch.tensor([1.5, -0.5]), atol=1e-5, rtol=0)
    edits = latent.apply_attribute(model, neutral[:5], exact, [0.0, 1.0, -2.0], batch_size=3)
    assert edits.shape == (3, 5, 4)
    torch.testing.assert_close(edits[0], neutral[:5], atol=1e-5, rtol=0)
    torch.testing.assert_close(edits[1], neutral[:5] + d, atol=1e-5, rtol=0)
    torch.testing.assert_close(edits[2], neutral[:5] - 2 * d, atol=1e-5, rtol=0)


def test_groups_by_several_values_and_bool_masks(linear_model) -> None:
    model, w = linear_model
    g = torch.Generator().manual_seed(1)
    x = _points(w, 30, g)
    codes = x @ w.T
    factor = torch.tensor([0.5, 0.7, 1.0] * 10)  # a float factor with three values
    v = latent.attribute_vector(model, x, factor, positive=1.0, negative=[0.5, 0.7])
    expected = codes[factor == 1.0].mean(0) - codes[factor != 1.0].mean(0)
    torch.testing.assert_close(v, expected, atol=1e-5, rtol=0)
    # negative defaults to every other row; a bool mask selects with positive=True
    torch.testing.assert_close(latent.attribute_vector(model, x, factor, 1.0), v)
    torch.testing.assert_close(latent.attribute_vector(model, x, factor == 1.0, True), v)
    # only two of the three values: the third is ignored
    two = latent.code_difference(codes, factor, 0.7, 0.5)
    torch.testing.assert_close(
        two, codes[factor == 0.7].mean(0) - codes[factor == 0.5].mean(0), atol=1e-6, rtol=0
    )


def test_bad_groups_and_vectors_raise(linear_model) -> None:
    model, w = linear_model
    x = _points(w, 6, torch.Generator().manual_seed(2))
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="no row has the positive"):
        latent.attribute_vector(model, x, labels, positive=5)
    with pytest.raises(ValueError, match="no row has the negative"):
        latent.attribute_vector(model, x, labels, positive=[0, 1, 2])
    with pytest.raises(ValueError, match="select the same rows"):
        latent.attribute_vector(model, x, labels, positive=[0, 1], negative=1)
    with pytest.raises(ValueError, match="shape"):
        latent.attribute_vector(model, x, labels[:, None], positive=1)
    with pytest.raises(ValueError, match=r"label value 1\.5 is not a torch\.int64 label"):
        latent.attribute_vector(model, x, labels, positive=1.5)  # not truncated to class 1
    with pytest.raises(ValueError, match=r"label value 0\.5"):
        latent.group_mask(labels == 1, [True, 0.5])
    with pytest.raises(ValueError, match="like one code"):
        latent.apply_attribute(model, x, torch.zeros(3), [1.0])
    with pytest.raises(ValueError, match="finite"):
        latent.apply_attribute(model, x, torch.zeros(2), [float("nan")])
