# gutstride: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo serve test bench fuzz lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt setup.py src/_gutstride_native.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gutstride demo -o demo-output

# The web app on http://127.0.0.1:8000 with the demo athlete (its password is printed), on a SQLite file in
# web-data/; set GUTSTRIDE_DATABASE_URL for PostgreSQL (README: "Coach or clinician").
serve: $(STAMP)
	$(BIN)/gutstride serve --storage web-data --demo

test: $(STAMP)
	bash .ci/system-packages
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Fuzz every reader for FUZZ_SECONDS each (10 minutes by default); results are recorded in docs/reliability.md.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz.py --seconds $(FUZZ_SECONDS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo-output web-data .pytest_cache .mypy_cache .ruff_cache
