# Two commands for a fresh machine with only Python 3.11+:
#   make run    set up .venv and run everything (web, worker, scheduler, embedded Redis) with a demo
#   make test   set up .venv and run lint, format check, mypy, the import contracts and the tests
#   make scan   set up .venv and scan the bundled sample calendar (the engine alone)
#   make web    set up .venv and serve only the web app on http://127.0.0.1:5000
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The translations: one catalog per language, compiled to the .mo files gettext reads (the .mo
# files are not in git). A changed .po is compiled again by the next run, scan, web or test.
PO     := $(wildcard service/translations/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run scan web test lint translations messages bench bench-workers bench-hostile bench-capacity bench-classifier bench-dashboard clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/pybabel compile --statistics -d service/translations -D messages
	touch $(STAMP)

translations: $(MO)

%/LC_MESSAGES/messages.mo: %/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

# Extract the marked strings again into the template the translators start from.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --add-comments=Translators: \
		--project=Touchpoint --version=0.1.0 --copyright-holder="Touchpoint contributors" \
		-o service/translations/messages.pot .

run: $(STAMP) translations
	$(BIN)/touchpoint run --demo --data data

scan: $(STAMP) translations
	$(BIN)/touchpoint scan service/samples/alice.ics --from 2026-03-02 --days 14 \
		--manager bob@example.com --goal "lead the Atlas platform team"

web: $(STAMP) translations
	$(BIN)/touchpoint web --data data

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint translations
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_scan.py

bench-workers: $(STAMP)
	$(BIN)/python bench/bench_workers.py

bench-dashboard: $(STAMP)
	$(BIN)/python bench/bench_dashboard.py

bench-hostile: $(STAMP)
	$(BIN)/python bench/bench_hostile.py

# Needs PostgreSQL (TOUCHPOINT_BENCH_POSTGRES, default the local server) and redis-server.
bench-capacity: $(STAMP)
	$(BIN)/python bench/bench_capacity.py

bench-classifier: $(STAMP)
	$(BIN)/python bench/bench_classifier.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
