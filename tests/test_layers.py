"""The import graph follows DESIGN.md's layers: an arrow only points down.

Every ``.py`` under ``src/latentkit`` is parsed with :mod:`ast` (nothing is imported) and each
dependency on latentkit is read from it:

- ``import latentkit.x`` and ``from latentkit.x import y``, absolute or relative, anywhere in
  the file: a lazy import inside a function, or one under ``if TYPE_CHECKING:``, still ties
  the importer to what it names;
- a string naming a module, such as the registry's ``"latentkit.models.vae:VAE"`` entries,
  which :func:`importlib.import_module` turns into an import later;
- ``from latentkit import NAME`` and ``latentkit.NAME`` after ``import latentkit``: NAME is
  resolved through the package's lazy table (``_LAZY`` in ``latentkit/__init__.py``), so
  ``from latentkit import Trainer`` counts as importing ``latentkit.training.trainer``.

Layers, lowest first (peers on one line of the DESIGN.md drawing share a layer, and may import
each other, but only one way: see :func:`test_peers_import_each_other_one_way_only`):

0. the foundations every layer may use: ``config``, ``errors``, ``_io``, ``safe_tensors``,
   ``_seeding`` (the one place that seeds torch's global generator), and the package root's
   eager part (``__version__``; what ``import latentkit`` runs, which imports nothing);
1. ``data/``, and ``datasets.py``, the public re-export of ``data/`` (``latentkit.datasets``);
2. ``nn/``, ``distributions/``;
3. ``models/``, ``zoo/`` (pretrained models, loaded by ``load()``, which lives in models/);
4. ``training/``, ``evaluation/``;
5. ``apps/``, ``sklearn/``;
6. the faces ``cli/``, ``serve/``, ``viz/``, and ``__main__.py`` (``python -m latentkit``);
7. ``latentkit/__init__.py`` as an importer: the lazy public surface names models and the
   trainer, so it sits above everything (nothing imports its lazy names without being
   charged for the module they come from).

A new top-level module or package must be placed in :data:`LAYERS` before the test passes.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import latentkit

PACKAGE = Path(latentkit.__file__).resolve().parent

#: Top-level module or package of latentkit -> its layer (lowest first).
LAYERS: dict[str, int] = {
    "config": 0,
    "errors": 0,
    "_io": 0,
    "safe_tensors": 0,
    "_seeding": 0,
    "__version__": 0,  # the root's eager part: `from latentkit import __version__`
    "data": 1,
    "datasets": 1,
    "nn": 2,
    "distributions": 2,
    "models": 3,
    "zoo": 3,
    "training": 4,
    "evaluation": 4,
    "apps": 5,
    "sklearn": 5,
    "cli": 6,
    "serve": 6,
    "viz": 6,
    "__main__": 6,
    "__init__": 7,  # latentkit/__init__.py, the lazy public surface
}

_MODULE_STRING = re.compile(r"^latentkit(\.[A-Za-z_]\w*)+(:[A-Za-z_]\w*)?$")


@dataclass(frozen=True)
class Import:
    """One dependency: ``importer`` (a module) names ``target`` (a module) at ``line``."""

    importer: str
    target: str
    line: int


def _lazy_table(source: str) -> dict[str, str]:
    """``_LAZY`` of the package root: public name -> module it is loaded from."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets):
                assert node.value is not None
                return ast.literal_eval(node.value)
    raise AssertionError("latentkit/__init__.py has no _LAZY table")


LAZY = _lazy_table((PACKAGE / "__init__.py").read_text(encoding="utf-8"))


def _root_name(name: str) -> str:
    """The module ``from latentkit import name`` (or ``latentkit.name``) depends on."""
    if name in LAZY:
        return LAZY[name]
    if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file():
        return f"latentkit.{name}"
    return "latentkit.__version__"  # __version__ and the like: the root's eager part


def module_name(path: Path) -> tuple[str, bool]:
    """Dotted name of the file ``path`` under the package, and whether it is a package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports_of(source: str, module: str, *, is_package: bool = False) -> list[Import]:
    """Every dependency of ``module`` (whose code is ``source``) on latentkit."""
    tree = ast.parse(source)
    here = module.split(".") if is_package else module.split(".")[:-1]
    found: list[Import] = []
    binds_root = False

    def add(target: str, line: int) -> None:
        found.append(Import(module, target, line))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "latentkit" or alias.name.startswith("latentkit."):
                    if alias.name == "latentkit":
                        add("latentkit.__version__", node.lineno)
                    else:
                        add(alias.name, node.lineno)
                    binds_root = binds_root or alias.asname is None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == "latentkit":
                for alias in node.names:
                    add(_root_name(alias.name), node.lineno)
            elif target.startswith("latentkit."):
                add(target, node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _MODULE_STRING.match(node.value)
        ):
            add(node.value.partition(":")[0], node.lineno)
    if binds_root:  # `import latentkit` then `latentkit.Trainer(...)`
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "latentkit"
            ):
                add(_root_name(node.attr), node.lineno)
    return found


def unit(module: str) -> str:
    """The top-level module or package a dotted name belongs to (``__init__`` for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer(module: str) -> int:
    name = unit(module)
    if name not in LAYERS:
        raise AssertionError(
            f"latentkit.{name} has no layer: place it in LAYERS of tests/test_layers.py "
            "(and in DESIGN.md's drawing)."
        )
    return LAYERS[name]


def upward(imports: list[Import]) -> list[Import]:
    """The imports that point to a higher layer than their importer's."""
    return [i for i in imports if layer(i.target) > layer(i.importer)]


def _all_imports() -> list[tuple[Path, Import]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module, is_package = module_name(path)
        source = path.read_text(encoding="utf-8")
        out.extend((path, i) for i in imports_of(source, module, is_package=is_package))
    return out


ALL = _all_imports()


def _where(path: Path, imp: Import) -> str:
    return (
        f"{path.relative_to(PACKAGE.parent)}:{imp.line}: {imp.importer} "
        f"(layer {layer(imp.importer)}) imports "
        f"{imp.target} (layer {layer(imp.target)})"
    )


def test_every_module_has_a_layer() -> None:
    units = {unit(module_name(p)[0]) for p in PACKAGE.rglob("*.py")}
    missing = sorted(units - set(LAYERS))
    assert not missing, f"place these in LAYERS of tests/test_layers.py: {missing}"


def test_the_checker_reads_the_package() -> None:
    # a sample of edges the code is known to have: if these vanish the parser is broken
    edges = {(unit(i.importer), unit(i.target)) for _, i in ALL}
    assert {("models", "nn"), ("training", "models"), ("cli", "apps")} <= edges
    registry = {i.target for _, i in ALL if i.importer == "latentkit.models.registry"}
    assert "latentkit.models.vae" in registry  # the registry's "module:Class" strings


def test_no_import_points_up() -> None:
    bad = [_where(path, imp) for path, imp in ALL if layer(imp.target) > layer(imp.importer)]
    assert not bad, "imports of a higher layer (DESIGN.md: an arrow only points down):\n" + (
        "\n".join(bad)
    )


def test_peers_import_each_other_one_way_only() -> None:
    """Within a layer (training and evaluation, apps and sklearn, the faces) imports may
    cross, but never in a cycle: the peers stay a tree that could be split into layers."""
    graph: dict[str, set[str]] = {}
    for _, imp in ALL:
        a, b = unit(imp.importer), unit(imp.target)
        if a != b and layer(imp.importer) == layer(imp.target):
            graph.setdefault(a, set()).add(b)

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    return [*path, start]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for u in sorted(graph) if (c := cycle_from(u))]
    assert not cycles, f"peers import each other in a cycle: {cycles}"


# --- the checker catches what it should (synthetic sources) ---------------------------------


@pytest.mark.parametrize(
    ("module", "is_package", "source", "target"),
    [
        ("latentkit.models.vae", False, "from latentkit.training import Trainer", "training"),
        ("latentkit.models.vae", False, "import latentkit.apps.anomaly", "apps"),
        ("latentkit.models.vae", False, "from ..training.trainer import Trainer", "training"),
        ("latentkit.models", True, "from ..evaluation import metrics", "evaluation"),
        ("latentkit.nn.mlp", False, "def f():\n    from latentkit.models import vae\n", "models"),
        ("latentkit.nn.mlp", False, "from latentkit import VAE", "models"),
        ("latentkit.data.idx", False, "import latentkit\nlatentkit.Trainer()", "training"),
        ("latentkit.data.idx", False, "from latentkit import sklearn", "sklearn"),
        ("latentkit.config", False, "from . import models", "models"),
        ("latentkit.models.registry", False, 'M = {"x": "latentkit.viz.plots:f"}', "viz"),
        (
            "latentkit.training.trainer",
            False,
            "if TYPE_CHECKING:\n    from latentkit.cli import main\n",
            "cli",
        ),
        ("latentkit.apps.reduce", False, "from latentkit.serve.app import create_app", "serve"),
    ],
)
def test_an_upward_import_is_caught(
    module: str, is_package: bool, source: str, target: str
) -> None:
    found = upward(imports_of(source, module, is_package=is_package))
    assert [unit(i.target) for i in found] == [target]
    assert found[0].importer == module


@pytest.mark.parametrize(
    ("module", "source", "seen"),
    [
        ("latentkit.models.persistence", "from latentkit import __version__", 1),
        ("latentkit.models.vae", "from latentkit.nn import NetworkConfig", 1),
        ("latentkit.models.vae", "from .base import AbstractModel", 1),
        ("latentkit.training.trainer", "from latentkit.evaluation import metrics", 1),  # peers
        ("latentkit.cli.train", "import latentkit\nlatentkit.load('run')", 2),
        ("latentkit.data.idx", "from latentkit._io import atomic_write_bytes", 1),
        ("latentkit.nn.mlp", "import torch\nfrom torch import nn", 0),
    ],
)
def test_an_allowed_import_passes(module: str, source: str, seen: int) -> None:
    found = imports_of(source, module)
    assert len(found) == seen  # seen, so not vacuously allowed
    assert upward(found) == []
