# The targets people look for. Each one creates or updates the virtual environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
PORT ?= 8501
# Busy-waiting OpenMP threads collapse when the dashboard, a training job and the tests share
# the cores; passive waiting costs little when alone and keeps shared cores usable.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: run test test-browser lint format bench translations clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python serve.py --server.port $(PORT)

test: $(STAMP) lint
	scripts/ensure-chromium
	$(BIN)/python -m pytest

test-browser: $(STAMP)
	scripts/ensure-chromium
	$(BIN)/python -m pytest -m browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# After changing the interface's words: the catalogues learn the new strings (seattn/i18n.py);
# then translate what seattn/locale/zh/LC_MESSAGES/seattn.po leaves empty or marks fuzzy.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o seattn/locale/seattn.pot --project=seattn --version=0.1.0 --no-wrap --sort-by-file .
	$(BIN)/pybabel update -i seattn/locale/seattn.pot -d seattn/locale -D seattn -l zh --no-wrap

# The training benchmark wants the machine to itself, with OpenMP's default (busy) waiting.
bench: $(STAMP)
	env -u OMP_WAIT_POLICY $(BIN)/python -m bench.train_throughput
	env -u OMP_WAIT_POLICY $(BIN)/python -m bench.se_block_speed
	$(BIN)/python -m bench.augment_speed
	$(BIN)/python -m bench.explore_speed
	$(BIN)/python -m bench.train_page_speed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output
