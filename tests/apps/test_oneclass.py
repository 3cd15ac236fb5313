"""latentkit.apps.oneclass: the compressed length against zlib by hand, the complexity
correction against its formula, the neighbour and combined scores against a brute-force
computation, and the errors a user can trigger."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import torch

from latentkit import VAE, VAEConfig
from latentkit.apps import oneclass
from latentkit.evaluation.likelihood import log_likelihood
from latentkit.nn import NetworkConfig


@pytest.fixture(scope="module")
def vae() -> VAE:
    torch.manual_seed(0)
    config = VAEConfig(input_shape=(1, 4, 4), latent_dim=3, network=NetworkConfig(hidden=(8,)),
                       likelihood="bernoulli")  # fmt: skip
    return VAE(config).eval()


def test_compressed_bits_is_zlib_of_the_8_bit_image() -> None:
    # a 2x2 image: grey values 0, 1, 0.5 (-> round(127.5) = 128) and 0.2 (-> 51)
    image = torch.tensor([[[[0.0, 1.0], [0.5, 0.2]]]])
    expected = 8 * len(zlib.compress(bytes([0, 255, 128, 51]), 9))
    assert oneclass.compressed_bits(image).tolist() == [expected]
    # a flat image compresses to fewer bits than noise of the same size
    noise = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    flat = torch.zeros(1, 1, 28, 28)
    bits = oneclass.compressed_bits(torch.cat([flat, noise]))
    assert bits[0] < 200 < 5000 < bits[1]  # 784 zero bytes: ~ 20 bytes; noise: ~ 790 bytes
    with pytest.raises(ValueError, match="level"):
        oneclass.compressed_bits(image, level=10)


def test_complexity_correction_is_nll_in_bits_minus_the_compressed_length() -> None:
    images = torch.tensor([[[[0.0, 1.0], [0.5, 0.2]]], [[[0.0, 0.0], [0.0, 0.0]]]])
    nll = torch.tensor([1000 * math.log(2), 10 * math.log(2)])  # 1000 and 10 bits
    bits = [8 * len(zlib.compress(bytes(b), 9)) for b in ([0, 255, 128, 51], [0, 0, 0, 0])]
    corrected = oneclass.complexity_corrected(nll, images)
    np.testing.assert_allclose(corrected.numpy(), [1000 - bits[0], 10 - bits[1]])
    with pytest.raises(ValueError, match="one per image"):
        oneclass.complexity_corrected(nll[:1], images)


def test_complexity_score_uses_the_seeded_iwae_nll(vae) -> None:
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    scores = oneclass.oneclass_scores(vae, x, method="complexity", k=5, seed=3)
    nll = -log_likelihood(vae, x, k=5, generator=torch.Generator().manual_seed(3))
    expected = nll.double() / math.log(2) - oneclass.compressed_bits(x)
    np.testing.assert_allclose(scores.numpy(), expected.numpy(), rtol=1e-6)


def _robust_z(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    q25, median, q75 = np.percentile(reference, [25, 50, 75])
    return (values - median) / (q75 - q25)


def test_neighbour_and_error_parts_match_a_brute_force_computation(vae) -> None:
    g = torch.Generator().manual_seed(2)
    train, x = torch.rand(40, 1, 4, 4, generator=g), torch.rand(7, 1, 4, 4, generator=g)
    reference = oneclass.TrainingReference.fit(vae, train, n_neighbors=5)
    with torch.no_grad():
        codes_train = vae.encode(train).double().numpy()
        codes_x = vae.encode(x).double().numpy()
        errors_train = (vae.reconstruct(train) - train).square().flatten(1).double().numpy()
        errors_x = (vae.reconstruct(x) - x).square().flatten(1).double().numpy()  # (7, 16)
    # leave-self-out distances of the training codes: sort each row, drop the 0 to itself
    pairwise = np.linalg.norm(codes_train[:, None] - codes_train[None], axis=2)  # (40, 40)
    train_distances = np.sort(pairwise, axis=1)[:, 1:6].mean(1)
    np.testing.assert_allclose(reference.distances, train_distances, rtol=1e-4)
    np.testing.assert_allclose(reference.errors, errors_train.sum(1), rtol=1e-5)
    distances = np.sort(np.linalg.norm(codes_x[:, None] - codes_train[None], axis=2), 1)[:, :5]
    scale = errors_train.mean(0) + 1e-3  # per pixel: mean training error + the floor
    z = {
        "neighbors": _robust_z(distances.mean(1), train_distances),
        "reconstruction": _robust_z(errors_x.sum(1), errors_train.sum(1)),
        "standardized": _robust_z((errors_x / scale).sum(1), (errors_train / scale).sum(1)),
    }
    for method in [m for m in oneclass.METHODS if m != "complexity"]:
        expected = sum(z[part] for part in method.split("+"))
        scores = oneclass.oneclass_scores(vae, x, reference, method)
        np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-4, atol=1e-5, err_msg=method)
    default = oneclass.oneclass_scores(vae, x, reference)
    assert default.equal(oneclass.oneclass_scores(vae, x, reference, oneclass.DEFAULT_METHOD))


def test_errors_name_the_option_and_the_fix(vae) -> None:
    x = torch.rand(3, 1, 4, 4)
    with pytest.raises(ValueError, match="method must be one of"):
        oneclass.oneclass_scores(vae, x, method="density")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"TrainingReference\.fit"):
        oneclass.oneclass_scores(vae, x, method="neighbors")
    with pytest.raises(ValueError, match="n_neighbors"):
        oneclass.TrainingReference.fit(vae, x, n_neighbors=0)


def test_standardized_is_refused_for_mixed_tables():
    from latentkit.models.registry import create_model

    model = create_model("tabular_vae", (3,), latent_dim=2)  # three numeric columns
    x = torch.randn(30, 3)
    reference = oneclass.TrainingReference.fit(model, x)
    with pytest.raises(ValueError, match="negative log-likelihoods"):
        oneclass.oneclass_scores(model, x, reference, "neighbors+standardized")
    assert oneclass.oneclass_scores(model, x, reference, "neighbors+reconstruction").shape == (30,)


def test_training_rows_leave_their_own_code_out():
    x = torch.randn(40, 4, generator=torch.Generator().manual_seed(0))
    codes = x.numpy().astype(np.float32)
    reference = oneclass.TrainingReference(codes, np.zeros(40), np.zeros(40), np.ones(4),
                                           np.zeros(40), n_neighbors=3)  # fmt: skip
    own = reference.neighbour_distance(codes, leave_self_out=True)
    assert np.allclose(own, oneclass.knn_distance(codes, codes, 3, leave_self_out=True))
    assert (reference.neighbour_distance(codes) < own).all()  # the 0 of its own code
