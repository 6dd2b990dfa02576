# Keluarga Berintegritas — `make run` serves the demo on http://127.0.0.1:8000, `make test` checks.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# test processes (pytest-xdist): one per core; 0 runs the suite in this process
TEST_WORKERS ?= auto
STAMP  := $(VENV)/.installed

.PHONY: run test install migrate content seed serve messages bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	$(BIN)/python -c "from app.i18n import compile_catalogs; compile_catalogs()"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/integritas migrate

content: migrate
	$(BIN)/integritas content sync

seed: content
	$(BIN)/integritas seed-demo

run: seed
	$(BIN)/integritas serve

serve: install
	$(BIN)/integritas serve

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -c "from app.i18n import compile_catalogs; compile_catalogs()"
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Extract translatable strings and update the catalogs (then translate app/translations/id).
messages: install
	$(BIN)/pybabel extract -F app/translations/babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 \
		--no-location --sort-output -o app/translations/messages.pot app templates
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations \
		--no-fuzzy-matching --ignore-obsolete

bench: install
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/layers.py
	$(BIN)/python benchmarks/facilitator.py
	$(BIN)/python benchmarks/kpk.py
	$(BIN)/python benchmarks/signin_burst.py

clean:
	rm -rf $(VENV) var
