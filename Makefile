# The README's commands. `make run` and `make test` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench translations lock check-newest clean

# A fresh machine installs exactly the versions in requirements.lock (`make lock` refreshes it).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/leveranse embedded

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check app carriers planning notifications tests bench wsgi.py
	$(BIN)/ruff format --check app carriers planning notifications tests bench wsgi.py

format: $(STAMP)
	$(BIN)/ruff format app carriers planning notifications tests bench wsgi.py
	$(BIN)/ruff check --fix app carriers planning notifications tests bench wsgi.py

bench: $(STAMP)
	for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

translations: $(STAMP)  ## extract, update and compile the tracking page's catalogs
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --project Leveranse -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations
	$(BIN)/pybabel compile -d app/translations

lock:  ## re-resolve the newest versions pyproject.toml allows, then run the tests before committing
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip && .lock-venv/bin/pip install --quiet '.[dev]'
	.lock-venv/bin/pip freeze --exclude leveranse > requirements.lock && rm -rf .lock-venv

check-newest:  ## the suite against the newest versions pyproject.toml allows; the lock file is left alone
	rm -rf .newest-venv && $(PYTHON) -m venv .newest-venv
	.newest-venv/bin/pip install --quiet --upgrade pip && .newest-venv/bin/pip install --quiet -e '.[dev]'
	.newest-venv/bin/pip freeze --exclude leveranse | diff requirements.lock - || true
	.newest-venv/bin/python -m pytest -q -p no:cacheprovider -x; status=$$?; rm -rf .newest-venv; exit $$status

clean:
	rm -rf $(VENV) instance
