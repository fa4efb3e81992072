# lstm-lab: `make train` and `make test` each set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
# torch is pinned here, not in pyproject.toml: an open range would pull a multi-GB CUDA
# build. Override for another build, e.g. `make install TORCH=2.9.1`.
TORCH ?= 2.13.0
# Where pip finds torch. Unset: pip's own configuration (from PyPI a Linux machine gets the
# CUDA build). `make install TORCH_INDEX=https://download.pytorch.org/whl/cpu`: the CPU-only
# build from PyTorch's own index.
TORCH_INDEX ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(TORCH)$(if $(TORCH_INDEX),-index)
ARGS ?=
PYTEST_ARGS ?=
# Test processes: two one-thread workers fill the 2 cores (whole files per worker, so a
# module's trained fixture is made once); TEST_WORKERS=0 runs in this process only.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
# What `make tensorboard` serves, e.g. LOGDIR=outputs/train/multiruns/<sweep> for one sweep.
LOGDIR ?= outputs
BENCH_ARGS ?=
DOCS_ARGS ?=
# What `make mlflow` serves: the store every run with logger=mlflow writes (docs/tracking.md).
MLFLOW_STORE ?= outputs/mlflow.db
MLFLOW_PORT ?= 5000

.PHONY: help install train test test-unit test-all bench lint docs-check format tensorboard mlflow mlflow-server gpu-check clean

help:
	@echo "make install      create $(VENV) with torch==$(TORCH) and the project (editable, dev+onnx)"
	@echo "                  (CPU-only torch: make install TORCH_INDEX=https://download.pytorch.org/whl/cpu)"
	@echo "make train        train the default experiment (bilstm); ARGS='experiment=stacked_lstm'"
	@echo "make test         unit + end-to-end tests (what CI runs); make test-all adds slow ones"
	@echo "                  (and installs the MLflow server for its test against a real one)"
	@echo "make test-unit    in-process unit tests only: the fast loop while developing"
	@echo "make bench        train.py vs a plain PyTorch loop, 5 interleaved runs each, then a 30-job sweep 3 times (8-12 min)"
	@echo "make lint         ruff check + ruff format --check"
	@echo "make docs-check   rerun every sample output in README.md and docs/; fail on a stale one"
	@echo "make tensorboard  serve outputs/ on http://127.0.0.1:6006 (LOGDIR=... for one sweep)"
	@echo "make mlflow       serve the MLflow store outputs/mlflow.db on http://127.0.0.1:5000"
	@echo "                  (installs the MLflow server and UI on first use, about 850 MB)"
	@echo "make gpu-check    train every experiment with trainer=gpu and check the targets"
	@echo "make clean        remove outputs/ runs and caches (keeps $(VENV))"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[dev,onnx]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

train: $(STAMP)
	$(BIN)/python train.py $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not slow" $(PYTEST_ARGS)

# The slow tests include one against a real MLflow server, so this installs it.
test-all: $(STAMP) mlflow-server
	$(BIN)/python -m pytest $(XDIST) -m "slow or not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every `$ command` block of README.md and docs/ is run again and compared (tools/docs_check.py);
# DOCS_ARGS=--write rewrites the stale ones.
docs-check: $(STAMP)
	$(BIN)/python tools/docs_check.py $(DOCS_ARGS)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

tensorboard: $(STAMP)
	$(BIN)/tensorboard --logdir $(LOGDIR) --host 127.0.0.1 --port 6006

# Training logs with the light mlflow-skinny client; the server and UI (the full mlflow
# package: Flask, pandas, pyarrow, scikit-learn, ...) are installed here, on first use, at
# the client's version.
mlflow-server: $(STAMP)
	@$(BIN)/python -c "import importlib.metadata as m; m.version('mlflow')" 2>/dev/null || { \
	  echo "First use: installing the MLflow server and UI into $(VENV) (about 850 MB, a minute)"; \
	  $(BIN)/python -m pip install --quiet "mlflow==$$($(BIN)/python -c \
	    "import importlib.metadata as m; print(m.version('mlflow-skinny'))")"; }

mlflow: mlflow-server
	$(BIN)/mlflow server --backend-store-uri sqlite:///$(abspath $(MLFLOW_STORE)) \
	  --artifacts-destination $(abspath $(dir $(MLFLOW_STORE)))/mlartifacts \
	  --host 127.0.0.1 --port $(MLFLOW_PORT)

gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py

clean:
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache build src/*.egg-info
	find . -name __pycache__ -not -path "./$(VENV)/*" -exec rm -rf {} +
