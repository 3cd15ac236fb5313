"""One way to seed: models are built under a seed by ``latentkit._seeding`` and nothing else in
the library touches torch's global generator."""

from __future__ import annotations

import ast
from pathlib import Path

import torch

import latentkit
from latentkit._seeding import build_seeded, seeded
from latentkit.models.registry import create_model
from latentkit.models.vae import VAE, VAEConfig
from latentkit.nn import NetworkConfig

SRC = Path(latentkit.__file__).resolve().parent
NET = NetworkConfig(hidden=(8,))


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _vae() -> VAE:
    return VAE(VAEConfig(input_shape=(6,), latent_dim=2, network=NET))


def test_build_seeded_leaves_the_global_stream_untouched_and_follows_the_seed() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    first = _weights(build_seeded(_vae, 7))
    assert torch.equal(torch.rand(3), expected)  # the caller's stream did not move
    torch.rand(50)  # another global state
    assert _same(first, _weights(build_seeded(_vae, 7)))
    assert not _same(first, _weights(build_seeded(_vae, 8)))


def test_build_seeded_draws_what_a_global_seed_drew() -> None:
    """Weights built under ``seeded(s)`` equal the old ``torch.manual_seed(s)`` then build."""
    torch.manual_seed(5)
    old_way = _weights(_vae())
    assert _same(old_way, _weights(build_seeded(_vae, 5)))


def test_without_a_seed_the_global_stream_is_used() -> None:
    torch.manual_seed(1)
    direct = _weights(_vae())
    torch.manual_seed(1)
    assert _same(direct, _weights(build_seeded(_vae, None)))


def test_create_model_takes_a_seed() -> None:
    fields = {"latent_dim": 2, "network": {"hidden": [8]}}
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    a = _weights(create_model("vae", (6,), seed=3, **fields))
    assert torch.equal(torch.rand(3), expected)
    assert _same(a, _weights(create_model("vae", (6,), seed=3, **fields)))
    assert _same(a, _weights(build_seeded(_vae, 3)))  # the same config, the same draws
    assert not _same(a, _weights(create_model("vae", (6,), seed=4, **fields)))


def test_training_setup_reexports_the_one_helper() -> None:
    from latentkit.training import seeded as from_training
    from latentkit.training.setup import seeded as from_setup

    assert from_setup is seeded and from_training is seeded


# -- nothing else seeds the global generator --------------------------------------------------

#: the module allowed to call torch.manual_seed, relative to src/latentkit
SEEDING_MODULE = "_seeding.py"
#: torch functions that seed a global generator
GLOBAL_SEEDERS = {
    ("torch", "manual_seed"),
    ("torch", "random", "manual_seed"),
    ("torch", "cuda", "manual_seed"),
    ("torch", "cuda", "manual_seed_all"),
}


def _dotted(node: ast.expr) -> tuple[str, ...] | None:
    """``a.b.c`` as ``("a", "b", "c")``; None for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return (node.id, *reversed(parts))


def _global_seed_calls(tree: ast.AST) -> list[int]:
    """Line numbers of calls to torch's global seeding functions, through any import alias."""
    aliases: dict[str, tuple[str, ...]] = {}  # local name -> what it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "torch":
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = tuple((alias.name if alias.asname else local).split("."))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            for alias in node.names:
                aliases[alias.asname or alias.name] = (*node.module.split("."), alias.name)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (name := _dotted(node.func)) is not None:
            resolved = (*aliases.get(name[0], (name[0],)), *name[1:])
            if resolved in GLOBAL_SEEDERS:
                lines.append(node.lineno)
    return lines


def test_the_checker_sees_every_spelling() -> None:
    source = (
        "import torch\nimport torch as th\nfrom torch import manual_seed\n"
        "from torch import random as r\nimport torch.cuda\n"
        "torch.manual_seed(0)\nth.manual_seed(1)\nmanual_seed(2)\nr.manual_seed(3)\n"
        "torch.random.manual_seed(4)\ntorch.cuda.manual_seed_all(5)\n"
        "torch.Generator().manual_seed(6)\ng = torch.Generator()\ng.manual_seed(7)\n"
    )
    assert _global_seed_calls(ast.parse(source)) == [6, 7, 8, 9, 10, 11]


def test_only_the_seeding_module_seeds_the_global_generator() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative == SEEDING_MODULE:
            continue
        for line in _global_seed_calls(ast.parse(path.read_text(), filename=str(path))):
            offenders.append(f"{relative}:{line}")
    assert not offenders, (
        f"torch's global generator is seeded at {offenders}; build models with "
        "latentkit._seeding.build_seeded (or inside seeded(seed)) and pass explicit "
        "torch.Generator objects for every other draw."
    )


def test_seeded_is_a_context_manager_that_restores() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    with seeded(9):
        inside = torch.rand(3)
    assert torch.equal(torch.rand(3), expected)
    with seeded(9):
        assert torch.equal(torch.rand(3), inside)
