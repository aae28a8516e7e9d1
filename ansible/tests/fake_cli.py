#!/usr/bin/env python3
"""A stand-in for the rolling-restart CLI in the module's Ansible tests. It records its argv in
argv.json beside itself, prints spec.json's "stdout" and exits with its "rc"."""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, 'argv.json'), 'w') as f:
    json.dump(sys.argv[1:], f)
with open(os.path.join(here, 'spec.json')) as f:
    spec = json.load(f)
sys.stderr.write(spec.get('stderr', ''))
sys.stdout.write(spec.get('stdout', ''))
sys.exit(spec.get('rc', 0))
