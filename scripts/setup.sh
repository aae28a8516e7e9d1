#!/usr/bin/env bash
# One-time setup on a fresh Debian (bookworm) machine: the Debian packages the tests, the demo and the
# benchmark run against, then the npm packages and the build. Safe to run again: it installs only what
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# What each package is for:
#   gunicorn, python3-setproctitle            Gunicorn 20.1 with process titles (gunicorn: master [NAME])
#   apache2, libapache2-mod-wsgi-py3          Apache with mod_wsgi 4.9 daemon process groups
#   uwsgi-core, uwsgi-plugin-python3          uWSGI 2.0 with its Python 3 plugin
#   wrk                                       load for the benchmark
#   time                                      GNU time (/usr/bin/time): the benchmark's peak RSS and CPU of the CLI
#   python3                                   the hook's own tests
#   haproxy                                   HAProxy 2.6, the load balancer whose runtime API drains a host
#   ansible-core                              ansible-playbook 2.14, which rolls a fleet with the bundled module
#   python3-venv                              the venvs of scripts/setup-venvs.sh (Gunicorn 26, Uvicorn, FastAPI, Django)
DEBIAN_PACKAGES=(gunicorn python3-setproctitle apache2 libapache2-mod-wsgi-py3 uwsgi-core uwsgi-plugin-python3 wrk time python3
  haproxy ansible-core python3-venv)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" != 0 ]; then SUDO=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  # --no-install-recommends keeps out extras; the system Apache and HAProxy are never started by us
  # (tests run their own from generated configs on loopback ports).
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present"
fi

bash scripts/setup-venvs.sh
echo "setup: npm packages and the build"
# npm ci runs the package's prepare script, which builds dist/; build here only when scripts are
# turned off (npm's ignore-scripts setting) and it did not.
npm ci --no-audit --no-fund --loglevel=error
if [ ! -f dist/src/main.js ]; then
  echo "setup: build"
  npm run --silent build
fi
echo "setup: done ($(node bin/rolling-restart --version))"
