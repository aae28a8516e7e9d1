"""Where the collection lives, and its pure module_utils loaded by file path (no Ansible import)."""
import importlib.util
import os

ANSIBLE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ANSIBLE_DIR, 'collections')
COLLECTION = os.path.join(COLLECTIONS, 'ansible_collections', 'rolling_restart', 'fleet')
PLAYBOOKS = os.path.join(ANSIBLE_DIR, 'playbooks')


def load_run_report():
    path = os.path.join(COLLECTION, 'plugins', 'module_utils', 'run_report.py')
    spec = importlib.util.spec_from_file_location('run_report', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
