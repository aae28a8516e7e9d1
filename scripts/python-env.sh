# Sourced by the Python test scripts: PYTHON is the system Python that Gunicorn, mod_wsgi, uWSGI
# and ansible-core run on when it exists, and no test leaves __pycache__ behind.
if [ -x /usr/bin/python3 ]; then
  PYTHON=/usr/bin/python3
else
  PYTHON="$(command -v python3)"
fi
export PYTHONDONTWRITEBYTECODE=1
