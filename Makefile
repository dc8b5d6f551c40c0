# The two README commands are `make demo` and `make test`; both install what they need.
PYTHON ?= python3
VENV ?= .venv
# Extra pip requirement for a test tier, e.g. DJANGO="Django>=4.2,<5.0".
DJANGO ?=
PYTEST_ARGS ?=
DEMO_ARGS ?=
# How many installs run side by side in `make install-test` (they are independent).
INSTALL_JOBS ?= 4
# pytest-xdist: one worker per core; tests that share a heavy fixture (LocalStack,
# the browser's stack) stay together (tests/conftest.py). XDIST= runs serially.
XDIST ?= -n auto --dist loadgroup
BIN := $(VENV)/bin
# checkov pins many packages of its own, so it gets its own venv.
CHECKOV := .venv-checkov/bin/checkov
# LocalStack (the strict S3 emulator tier) also lives in a venv of its own.
LOCALSTACK := .venv-localstack/bin/python

.PHONY: demo test lint install-test install-test-parts install-main install-demo system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install-demo: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[local]"

# DATABASE_URL=mysql://… (the MariaDB tier) adds the `mysql` extra: mysqlclient,
# built against Debian's MariaDB client headers.
comma := ,
MYSQL := $(if $(filter mysql%,$(DATABASE_URL)),mysql)

# The four installs (Debian packages, the checkov venv, the LocalStack venv, the
# main venv) do not depend on each other, so they run in parallel. make waits for
# all of them and exits non-zero if any failed; --output-sync keeps each one's
# output in one piece.
install-test:
	@$(MAKE) --no-print-directory -j$(INSTALL_JOBS) --output-sync=target install-test-parts

install-test-parts: install-main system-packages $(CHECKOV) $(LOCALSTACK)

# mysqlclient compiles against libmariadb, so the MariaDB tier waits for the headers.
install-main: $(BIN)/python $(if $(MYSQL),system-packages)
	$(BIN)/pip install --quiet -e ".[test,docs,tuning$(if $(MYSQL),$(comma)mysql)]" $(if $(DJANGO),"$(DJANGO)")

# Debian's Chromium for the browser test (no browser download) and, for the MariaDB
# tier, libmariadb's headers: one apt-get for both (dpkg takes one lock). Root
# installs what is missing; anyone else without Chromium gets the browser test
# skipped (never in CI).
APT_PACKAGES = $(if $(wildcard /usr/bin/chromium),,chromium) \
	$(if $(MYSQL),$(shell pkg-config --exists libmariadb 2>/dev/null || echo libmariadb-dev))
system-packages:
	@if [ -n "$(strip $(APT_PACKAGES))" ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --upgrade pip
	.venv-checkov/bin/python -m pip install --quiet checkov

$(LOCALSTACK):
	bash tests/strict_s3/install_localstack.sh

demo: install-demo
	cd example_project && ../$(BIN)/python manage.py run_local_stack --demo-user demo:demo --smoke $(DEMO_ARGS)

test: install-test
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
