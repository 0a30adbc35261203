# policybot — `make demo` runs the bot on the bundled corpus, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup demo demo-shared test lint typecheck browser ranker clean

setup: $(STAMP)

# torch is pinned to the CPU build that installs from local disk; a plain `torch` requirement would pull CUDA.
# `bot.index.export` writes the ONNX copy of the bundled model (POLICYBOT_MODEL_CACHE, default ~/.cache/policybot)
# that queries run on without torch; deterministic, from installed files only (the first index does it otherwise).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m bot.index.export
	touch $(STAMP)

# Index the bundled corpus, answer the founding article's questions, then serve the chat page (Ctrl-C stops).
# With the shared Open Terms Archive folder beside the checkout, `make demo-shared` syncs it first.
DEMO_PORT ?= 7860
demo: setup
	$(BIN)/policybot index
	$(BIN)/policybot ask "Can SoundCloud use my tracks to train AI?"
	$(BIN)/policybot ask "My label uploaded my album: does the AI clause apply?"
	@echo "Chat page: http://127.0.0.1:$(DEMO_PORT)/  (Ctrl-C to stop)"
	$(BIN)/policybot serve --host 127.0.0.1 --port $(DEMO_PORT)

demo-shared: setup
	$(BIN)/policybot corpus sync --from ../shared/corpus/open-terms-archive
	$(BIN)/policybot ask "What changed in SoundCloud's AI terms?"
	$(BIN)/policybot ask "Which platforms let me opt out of AI training?"
	$(BIN)/policybot ask "Who owns the images I generate on Midjourney?"
	$(BIN)/policybot ask "Does ArtStation let AI companies scrape my portfolio?"
	@echo "Chat page: http://127.0.0.1:$(DEMO_PORT)/  (Ctrl-C to stop)"
	$(BIN)/policybot serve --host 127.0.0.1 --port $(DEMO_PORT)

lint: setup
	$(BIN)/ruff check bot tests eval
	$(BIN)/ruff format --check bot tests eval

typecheck: setup
	$(BIN)/mypy

# The web tests drive Debian's chromium (never a downloaded browser); install it when missing. If it cannot
# be installed (no root, no sudo, no apt), say so: those tests then skip with the reason.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; } \
	    || echo "warning: could not install chromium with apt-get; the browser tests will be skipped"; }

test: lint typecheck browser
	$(BIN)/pytest

# Refit the second-stage ranker on the dev set (never on the test sets) and write bot/data/ranker.toml. It indexes
# ../shared/corpus/open-terms-archive and the bundled corpus into DATA_DIR/eval first (POLICYBOT_DATA_DIR).
ranker: setup
	$(BIN)/python -m bot.evaluation.train_ranker --questions eval/dev_questions.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
