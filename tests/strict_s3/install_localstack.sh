#!/usr/bin/env bash
# Make LocalStack's own virtualenv for the strict S3 tier (tests/strict_s3/).
# Host mode, no Docker. localstack-core 4.13.1 is the last release for Python 3.11
# (4.14 needs 3.12); the other pins keep its dependency set installable.
# Usage: bash tests/strict_s3/install_localstack.sh [VENV_DIR]   (default: .venv-localstack)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${1:-.venv-localstack}"
LOCALSTACK_REQUIREMENTS=(
    "localstack-core[runtime]==4.13.1"
    "cbor2<5.7"
    "cryptography<44"
    "pyopenssl<24.3"
    "service_identity"
)
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import localstack.runtime.main" 2>/dev/null; then
    echo "LocalStack venv $VENV is ready"
    exit 0
fi
if [ -z "${PY311:-}" ]; then
    PY311="$(command -v python3.11 || true)"
fi
if [ -z "$PY311" ]; then
    PY311="$(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.11*/bin/python 2>/dev/null | sort -V | tail -1)"
fi
if [ -z "$PY311" ]; then
    echo "Python 3.11 not found (set PY311=/path/to/python3.11)" >&2
    exit 1
fi
"$PY311" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "${LOCALSTACK_REQUIREMENTS[@]}"
"$VENV/bin/python" -c "import localstack.runtime.main; import importlib.metadata as m; print('localstack-core', m.version('localstack-core'), 'in', '$VENV')"
