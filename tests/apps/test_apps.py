"""Each application on real data, with a numeric bar that a broken implementation cannot pass.

Models are tiny MLPs trained for a few epochs on MNIST subsets, so the file runs in about a
minute on 2 CPU cores; the full-size numbers live in benchmarks/.
"""

from __future__ import annotations

import pytest
import torch

from latentkit import VAE, ConditionalVAE, ConditionalVAEConfig, VAEConfig
from latentkit.apps import anomaly, latent
from latentkit.apps.colorize import evaluate_colorization, train_colorizer
from latentkit.apps.denoise import evaluate_denoising, train_denoiser
from latentkit.apps.generate import generate
from latentkit.apps.inpaint import evaluate_inpainting
from latentkit.apps.reduce import compare_with_pca
from latentkit.apps.semisup import hide_labels, train_m2
from latentkit.data.corruptions import mask_center_box, mask_random_pixels
from latentkit.data.dataset import Dataset
from latentkit.data.patches import extract_patches
from latentkit.datasets import load
from latentkit.evaluation.metrics import knn_accuracy
from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
from latentkit.nn import NetworkConfig
from latentkit.training.config import CorruptionConfig, TrainConfig
from latentkit.training.trainer import Trainer

MLP = NetworkConfig(hidden=(256,))


def fast(epochs: int = 3, **kw) -> TrainConfig:
    options = {"batch_size": 128, "lr": 2e-3, "progress": False, "seed": 0, **kw}
    return TrainConfig(epochs=epochs, **options)


@pytest.fixture(scope="module")
def mnist():
    from tests.conftest import require_data

    root = require_data("mnist").parent
    return load("mnist", "train", root=root), load("mnist", "test", root=root)


@pytest.fixture(scope="module")
def mnist_vae(mnist):
    torch.manual_seed(0)
    train, _ = mnist
    model = VAE(VAEConfig(input_shape=(1, 28, 28), latent_dim=8, network=MLP))
    Trainer(fast(binarize="dynamic")).fit(model, train.subset(slice(0, 8000)))
    return model.eval()


def test_reduce_codes_beat_chance_by_far_and_stand_next_to_pca(mnist, mnist_vae):
    train, test = mnist
    result = compare_with_pca(mnist_vae, train.subset(slice(0, 5000)), test.subset(slice(0, 1000)))
    assert result["model_knn_accuracy"] > 0.8  # chance is 0.1
    assert result["pca_knn_accuracy"] > 0.8
    assert 0.8 < result["model_trustworthiness"] <= 1.0


def test_interpolation_endpoints_reconstruct_the_inputs(mnist, mnist_vae):
    _, test = mnist
    a, b = test.x[:4], test.x[4:8]
    for method in ("linear", "spherical"):
        path = latent.interpolate(mnist_vae, a, b, steps=6, method=method)
        assert path.shape == (6, 4, 1, 28, 28)
        with torch.inference_mode():
            assert torch.allclose(path[0], mnist_vae.reconstruct(a), atol=1e-5)
            assert torch.allclose(path[-1], mnist_vae.reconstruct(b), atol=1e-5)
        # the middle differs from both ends
        assert (path[3] - path[0]).abs().mean() > 0.01


def test_slerp_keeps_norm_and_attribute_vector_moves_codes(mnist, mnist_vae):
    a, b = torch.randn(5, 8), torch.randn(5, 8)
    mid = latent.slerp(
        a, b * a.norm(dim=1, keepdim=True) / b.norm(dim=1, keepdim=True), torch.tensor([0.5])
    )[0]
    assert torch.allclose(mid.norm(dim=1), a.norm(dim=1), atol=1e-4)
    _, test = mnist
    x, y = test.x[:500], test.y[:500]
    vector = latent.attribute_vector(mnist_vae, x, y == 1)
    ones_codes = (
        latent.reduce_codes(mnist_vae, x[y == 1]) if hasattr(latent, "reduce_codes") else None
    )
    assert ones_codes is None
    moved = latent.apply_attribute(mnist_vae, x[y == 0][:10], vector, [0.0, 1.0])
    # adding the "one" direction moves zeros' codes towards the mean code of ones
    codes0 = mnist_vae.encode(x[y == 0][:10])
    mean1 = mnist_vae.encode(x[y == 1]).mean(0)
    before = (codes0 - mean1).norm(dim=1).mean()
    after = (codes0 + vector - mean1).norm(dim=1).mean()
    assert after < before
    assert moved.shape == (2, 10, 1, 28, 28)


def test_one_class_anomaly_detector_for_digit_zero(mnist):
    torch.manual_seed(0)
    train, test = mnist
    zeros = train.subset(train.y == 0)
    model = VAE(VAEConfig(input_shape=(1, 28, 28), latent_dim=8, network=MLP))
    Trainer(fast(epochs=4)).fit(model, zeros)
    x, is_anomaly = test.x[:2000], test.y[:2000] != 0
    reference = anomaly.LatentGaussian.fit(anomaly.posterior_means(model, zeros.x))
    for method in ("reconstruction", "elbo", "nll"):
        scores = anomaly.anomaly_scores(model, x, method, reference=reference, k=20, samples=4)
        metrics = anomaly.detection_metrics(scores, is_anomaly)
        assert metrics["auroc"] > 0.9, (method, metrics)
    # Distance to the training codes is a weak score for a one-class VAE (other digits encode
    # near the prior's centre, like zeros do): only check that it scores every row.
    distance = anomaly.anomaly_scores(model, x, "latent_distance", reference=reference)
    assert distance.shape == (2000,) and torch.isfinite(distance).all()
    # deterministic scoring
    s1 = anomaly.anomaly_scores(model, x[:50], "elbo")
    assert torch.equal(s1, anomaly.anomaly_scores(model, x[:50], "elbo"))
    # threshold from a target false-positive rate on normal validation scores
    normal_val = anomaly.anomaly_scores(model, test.x[2000:4000][test.y[2000:4000] == 0])
    threshold = anomaly.threshold_from_fpr(normal_val, 0.05)
    scores = anomaly.anomaly_scores(model, x)
    metrics = anomaly.detection_metrics(scores, is_anomaly, threshold)
    normal_flagged = (scores[~is_anomaly] > threshold).float().mean().item()
    assert normal_flagged < 0.15 and metrics["recall"] > 0.5


def test_feature_scores_point_at_the_broken_column():
    from sklearn.datasets import load_wine

    torch.manual_seed(0)
    x = torch.tensor(load_wine().data, dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0)
    model = Autoencoder(
        AutoencoderConfig(
            input_shape=(13,),
            latent_dim=4,
            reconstruction="mse",
            network=NetworkConfig(hidden=(32,)),
        )
    )
    Trainer(fast(epochs=150, batch_size=32)).fit(model, x)
    broken = x[:20].clone()
    broken[:, 5] += 6.0  # column 5 is off by six standard deviations
    errors = anomaly.feature_errors(model, broken)
    assert (errors.argmax(dim=1) == 5).float().mean() > 0.8


def test_denoiser_raises_psnr_at_sigma_half(mnist):
    torch.manual_seed(0)
    train, test = mnist
    model = train_denoiser(train.x[:8000], 0.5, latent_dim=32, network=MLP, train=fast())
    result = evaluate_denoising(model, test.x[:500], 0.5)
    assert result["psnr_denoised"] > result["psnr_noisy"] + 4.0, result
    assert result["ssim_denoised"] > result["ssim_noisy"]


def test_denoiser_handles_larger_images_through_blended_patches(mnist):
    torch.manual_seed(0)
    train, test = mnist
    patches, _ = extract_patches(
        train.x[:4000], 14, mode="random", n_patches=4, generator=torch.Generator().manual_seed(0)
    )
    model = train_denoiser(
        patches, 0.3, latent_dim=32, network=NetworkConfig(hidden=(128,)), train=fast(epochs=2)
    )
    result = evaluate_denoising(model, test.x[:50], 0.3)  # 28x28 from 14x14 patches
    assert result["denoised"].shape == (50, 1, 28, 28)
    assert result["psnr_denoised"] > result["psnr_noisy"] + 2.0, result


def test_inpainting_beats_mean_fill_on_missing_pixels(mnist, mnist_vae):
    torch.manual_seed(0)
    train, test = mnist
    clean = test.x[:300]
    _, pixels = mask_random_pixels(clean, 0.5, generator=torch.Generator().manual_seed(0))
    _, box = mask_center_box(clean, 14)
    for kind, missing in (("mask", pixels), ("box_mask", box)):
        ae = Autoencoder(AutoencoderConfig(input_shape=(1, 28, 28), latent_dim=32, network=MLP))
        Trainer(fast(corruption=CorruptionConfig(kind=kind, amount=0.5))).fit(ae, train.x[:8000])
        result = evaluate_inpainting(ae, clean, missing)
        assert result["psnr_missing"] > result["psnr_missing_mean_fill"] + 2.0, result
        observed = ~missing
        assert torch.equal(result["inpainted"][observed], clean[observed])  # kept as given
    optimised = evaluate_inpainting(
        mnist_vae, clean[:100], box[:100], method="latent_optimisation", steps=100
    )
    assert optimised["psnr_missing"] > optimised["psnr_missing_mean_fill"] + 1.0, optimised


def test_conditional_samples_have_the_requested_class():
    torch.manual_seed(0)
    train, test = load("digits", "train"), load("digits", "test")
    model = ConditionalVAE(
        ConditionalVAEConfig(
            input_shape=(1, 8, 8),
            latent_dim=4,
            num_classes=10,
            network=NetworkConfig(hidden=(128,)),
        )
    )
    Trainer(fast(epochs=60, batch_size=64)).fit(model, train)
    samples = generate(model, 50, y=3, temperature=0.5)
    assert samples.shape == (50, 1, 8, 8)
    acc = knn_accuracy(train.x.flatten(1), train.y, samples.flatten(1), torch.full((50,), 3))
    assert acc > 0.7
    with pytest.raises(ValueError, match="pass a label"):
        generate(model, 2)
    vae_samples = generate(VAE(VAEConfig(input_shape=(1, 8, 8), latent_dim=2)), 4, temperature=0.0)
    assert torch.allclose(vae_samples[0], vae_samples[1])  # temperature 0: the prior mean
    assert test.x.shape[1:] == (1, 8, 8)


def test_latent_grid_needs_two_dimensions():
    model = VAE(VAEConfig(input_shape=(1, 8, 8), latent_dim=2))
    assert latent.latent_grid(model, 5).shape == (5, 5, 1, 8, 8)
    with pytest.raises(ValueError, match="latent_dim=3"):
        latent.latent_grid(VAE(VAEConfig(input_shape=(1, 8, 8), latent_dim=3)))


def test_m2_with_ten_labels_per_class_beats_chance_by_far():
    torch.manual_seed(0)
    train, test = load("digits", "train"), load("digits", "test")
    y_partial = hide_labels(train.y, 10, seed=0)
    assert int((y_partial >= 0).sum()) == 100
    model = train_m2(
        train.x,
        y_partial,
        num_classes=10,
        latent_dim=8,
        network=NetworkConfig(hidden=(128,)),
        train=fast(epochs=40, batch_size=64),
    )
    accuracy = (model.predict(test.x) == test.y).float().mean().item()
    assert accuracy > 0.7, accuracy
    assert isinstance(Dataset(train.x, y_partial, "d").y, torch.Tensor)


def test_colorizer_beats_the_gray_baseline_on_unseen_photos():
    from tests.conftest import require_data

    images = require_data("images")
    torch.manual_seed(0)
    train = load(images / "CBSD68", mode="rgb", patch_size=16, patches="random", n_patches=50)
    model = train_colorizer(
        train.x, latent_dim=64, network=NetworkConfig(hidden=(256,)), train=fast(epochs=4)
    )
    test = load(images / "McMaster", mode="rgb").x[:3, :, :96, :120]  # crops: any size works
    result = evaluate_colorization(model, test)
    assert result["colorized"].shape == test.shape
    assert result["psnr_colorized"] > result["psnr_gray"] + 0.1, result
    assert result["colorfulness_colorized"] > 3.0  # real color, not a gray copy
    # luminance is kept exactly from the input
    from latentkit.apps.colorize import rgb_to_ycbcr

    y_out, y_in = rgb_to_ycbcr(result["colorized"])[:, 0], rgb_to_ycbcr(test)[:, 0]
    assert (y_out - y_in).abs().mean() < 0.02
