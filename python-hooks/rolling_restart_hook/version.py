"""The hook's version, from the one place the rolling-restart tree keeps it: its package.json.

A wheel built by ``pip install`` carries the number in ``_version.py``, written by the build
(python-hooks/build_backend). Run from a checkout or from ``rolling-restart hook-path``, the
package sits at ``python-hooks/rolling_restart_hook`` of the rolling-restart package, and the
number is read from ``../../package.json``. Neither: the version is unknown (None), and the
datagram carries no ``HOOK`` field.

``VERSION`` is looked up once, when the hook is imported: that is the code the worker runs,
whatever is on disk by the time it boots. This module must load on its own (the build reads it
by path, outside the package, where only ``read_package_json`` is used), and nothing here raises.
"""

import json
import os

PACKAGE_NAME = "rolling-restart"


def read_package_json(path):
    """The version in ``path`` when it is rolling-restart's package.json, else None."""
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except Exception:
        return None
    if not isinstance(data, dict) or data.get("name") != PACKAGE_NAME:
        return None
    version = data.get("version")
    return version if isinstance(version, str) and version.strip() else None


def package_json_path(package_dir):
    """Where rolling-restart's package.json is, relative to this package's directory."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(package_dir))), "package.json")


def built_version():
    """The number the build wrote into a wheel, or None (a checkout has no _version.py)."""
    try:
        from ._version import VERSION
    except Exception:
        return None
    return VERSION if isinstance(VERSION, str) and VERSION else None


def hook_version(package_dir=None, built=built_version):
    """This hook's version: the built one, else the tree's package.json, else None."""
    try:
        version = built()
        if version:
            return version
        here = package_dir or os.path.dirname(os.path.abspath(__file__))
        return read_package_json(package_json_path(here))
    except Exception:
        return None


VERSION = hook_version()
