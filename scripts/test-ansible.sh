#!/usr/bin/env bash
# Unit tests of the Ansible collection (ansible/tests), standard library unittest only: the module's
# pure mapping (no Ansible import), then the module and the example playbook under the real
# ansible-playbook with a stand-in CLI (skipped where ansible-core is not installed).
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/python-env.sh
echo "test-ansible: using $PYTHON ($("$PYTHON" --version 2>&1)), $(ansible-playbook --version 2>/dev/null | head -n 1 || echo 'no ansible-playbook')"
exec "$PYTHON" -m unittest discover -s ansible/tests -t ansible/tests "$@"
