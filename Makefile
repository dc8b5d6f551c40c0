# The two README commands are `make demo` and `make test`; both install what they need.
PYTHON ?= python3
VENV ?= .venv
# Extra pip requirement for a test tier, e.g. DJANGO="Django>=4.2,<5.0".
DJANGO ?=
PYTEST_ARGS ?=
DEMO_ARGS ?=
BIN := $(VENV)/bin
# checkov pins many packages of its own, so it gets its own venv.
CHECKOV := .venv-checkov/bin/checkov
# LocalStack (the strict S3 emulator tier) also lives in a venv of its own.
LOCALSTACK := .venv-localstack/bin/python

.PHONY: demo test lint install-test install-demo browser mariadb-client

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install-demo: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[local]"

# DATABASE_URL=mysql://… (the MariaDB tier) adds the `mysql` extra: mysqlclient,
# built against Debian's MariaDB client headers.
comma := ,
MYSQL := $(if $(filter mysql%,$(DATABASE_URL)),mysql)

install-test: $(BIN)/python browser $(CHECKOV) $(LOCALSTACK) $(if $(MYSQL),mariadb-client)
	$(BIN)/pip install --quiet -e ".[test,docs,tuning$(if $(MYSQL),$(comma)mysql)]" $(if $(DJANGO),"$(DJANGO)")

# mysqlclient compiles against libmariadb; root installs the headers when missing.
mariadb-client:
	@if ! pkg-config --exists libmariadb 2>/dev/null && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmariadb-dev >/dev/null; \
	fi

$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --upgrade pip
	.venv-checkov/bin/python -m pip install --quiet checkov

# Debian's Chromium for the browser test (no browser download); root installs it,
# anyone else without it gets the browser test skipped (never in CI).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

$(LOCALSTACK):
	bash tests/strict_s3/install_localstack.sh

demo: install-demo
	cd example_project && ../$(BIN)/python manage.py run_local_stack --demo-user demo:demo --smoke $(DEMO_ARGS)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
