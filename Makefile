# Taiyi job suite. Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Variables: RUN (runs/<RUN>/), PRESET (jobs/<PRESET>.yaml), PROFILE (slurm/profiles/<PROFILE>.yaml).
# Put your own defaults in local.mk (not tracked), e.g. PROFILE=mycluster PRESET=taiyi1 RUN=taiyi1-a.
-include local.mk

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
RUN ?= demo
PRESET ?= demo
PROFILE ?= local
PYTEST_ARGS ?=

BIN := $(VENV)/bin
TAIYI := $(BIN)/taiyi
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1

.PHONY: help setup demo test lint plan submit-data submit-stage1 submit-stage2 submit-eval submit-all \
        status container devcluster-up devcluster-down bench clean-venv

help:
	@grep -E '^[a-z0-9-]+:.*## ' Makefile | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed, found " + sys.version'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: anything unpinned would pull the newest torch with gigabytes of CUDA
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

setup: $(STAMP) ## create .venv and install the suite (CPU torch)

demo: setup ## run the whole pipeline on CPU: tiny model, bundled samples, local profile
	$(TAIYI) demo --run $(RUN) --preset $(PRESET) --profile $(PROFILE)

test: setup ## install what tests need and run them (SLURM tests need `make devcluster-up`)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: setup ## ruff and the type check (mypy; settings in pyproject.toml)
	$(BIN)/ruff check taiyi_core tests bench containers
	$(BIN)/mypy

submit-data: setup ## data array (one task per dataset) then curate
	$(TAIYI) submit data --run $(RUN) --preset $(PRESET) --profile $(PROFILE)

submit-stage1: setup ## QLoRA stage 1 (waits on the data jobs if they are still queued)
	$(TAIYI) submit stage1 --run $(RUN) --preset $(PRESET) --profile $(PROFILE)

submit-stage2: setup ## QLoRA stage 2 (afterok on stage 1 if it is still queued)
	$(TAIYI) submit stage2 --run $(RUN) --preset $(PRESET) --profile $(PROFILE)

submit-eval: setup ## evaluation array (one task per evaluation set) then the scoreboard
	$(TAIYI) submit eval --run $(RUN) --preset $(PRESET) --profile $(PROFILE)

submit-all: setup ## data -> curate -> stage1 -> stage2 -> eval -> report, chained with afterok
	$(TAIYI) submit all --run $(RUN) --preset $(PRESET) --profile $(PROFILE)

plan: setup ## what submit-all would queue with these RUN/PRESET/PROFILE (queues nothing)
	$(TAIYI) submit all --run $(RUN) --preset $(PRESET) --profile $(PROFILE) --dry-run

status: setup ## queue, progress, failures, cost and scores of a run
	$(BIN)/taiyi-status $(RUN)

container: ## build containers/taiyi.sif with Apptainer (needs apptainer on this machine)
	bash containers/build.sh

devcluster-up: ## start the single-node SLURM cluster (root; TAIYI_DEVCLUSTER_INSTALL=1 installs packages)
	bash slurm/devcluster/up.sh

devcluster-down: ## stop it
	bash slurm/devcluster/down.sh

bench: setup ## benchmarks: each runs a baseline side by side and prints the ratio
	@set -e; for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean-venv:
	rm -rf $(VENV)
