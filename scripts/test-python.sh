#!/usr/bin/env bash
# Unit tests of the Python hooks (python-hooks/tests), standard library unittest only.
# Uses the system Python that Gunicorn, mod_wsgi and uWSGI run on when it exists.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/python-env.sh
echo "test-python: using $PYTHON ($("$PYTHON" --version 2>&1))"
exec "$PYTHON" -m unittest discover -s python-hooks/tests -t python-hooks "$@"
