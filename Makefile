# lstm-lab: `make train` and `make test` each set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
# torch is pinned here, not in pyproject.toml: an open range would pull a multi-GB CUDA
# build. Override for another build, e.g. `make install TORCH=2.9.1`.
TORCH ?= 2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(TORCH)
ARGS ?=
PYTEST_ARGS ?=
# What `make tensorboard` serves, e.g. LOGDIR=outputs/train/multiruns/<sweep> for one sweep.
LOGDIR ?= outputs
BENCH_ARGS ?=

.PHONY: help install train test test-unit test-all bench lint format tensorboard gpu-check clean

help:
	@echo "make install      create $(VENV) with torch==$(TORCH) and the project (editable, dev+onnx)"
	@echo "make train        train the default experiment (bilstm); ARGS='experiment=stacked_lstm'"
	@echo "make test         unit + end-to-end tests (what CI runs); make test-all adds slow ones"
	@echo "make test-unit    in-process unit tests only: the fast loop while developing"
	@echo "make bench        train.py vs a plain PyTorch loop, 5 interleaved runs each (5-8 min)"
	@echo "make lint         ruff check + ruff format --check"
	@echo "make tensorboard  serve outputs/ on http://127.0.0.1:6006 (LOGDIR=... for one sweep)"
	@echo "make gpu-check    train every experiment with trainer=gpu and check the targets"
	@echo "make clean        remove outputs/ runs and caches (keeps $(VENV))"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev,onnx]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

train: $(STAMP)
	$(BIN)/python train.py $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not slow" $(PYTEST_ARGS)

test-all: $(STAMP)
	$(BIN)/python -m pytest -m "slow or not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

tensorboard: $(STAMP)
	$(BIN)/tensorboard --logdir $(LOGDIR) --host 127.0.0.1 --port 6006

gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py

clean:
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache build src/*.egg-info
	find . -name __pycache__ -not -path "./$(VENV)/*" -exec rm -rf {} +
