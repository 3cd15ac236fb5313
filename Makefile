# latentkit: every target bootstraps .venv first (idempotent: re-run only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0

.PHONY: demo test bench bench-quick lint venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch would pull gigabytes of CUDA packages.
	$(BIN)/python -m pip install --quiet "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/latentkit demo

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples zoo
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples zoo
	$(BIN)/ruff format --check src tests benchmarks examples zoo

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --quick

# retrain every pretrained model from scratch into src/latentkit/zoo/pretrained, cards included
# (one model: make zoo ZOO=denoiser-gray); reads the shared datasets from $LATENTKIT_DATA
.PHONY: zoo
ZOO ?=
zoo: $(STAMP)
	$(BIN)/python zoo/train.py $(ZOO)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
