"""What the build says about the hook package: the [project] table of pyproject.toml, the
version (rolling-restart's package.json, or the PKG-INFO of an sdist), and the core metadata
text (METADATA in a wheel, PKG-INFO in an sdist). Standard library only.
"""

import importlib.util
import os
import re

PACKAGE = "rolling_restart_hook"
_LINE = re.compile(r'^([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.+?)\s*$')
_COMMENT = r'\s*(?:#.*)?$'
_STRING = re.compile(r'^"((?:[^"\\]|\\.)*)"' + _COMMENT)
_TEXT_TABLE = re.compile(r'^\{\s*text\s*=\s*"((?:[^"\\]|\\.)*)"\s*\}' + _COMMENT)


def read_project(source_dir):
    """The string values of pyproject.toml's [project] table (``license = { text = ... }`` as
    ``license``). A reader for the flat table this package's pyproject.toml uses, not for TOML:
    Python 3.8 has no tomllib."""
    project = {}
    section = None
    with open(os.path.join(source_dir, "pyproject.toml"), "r", encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            header = re.match(r"^\[([^\]]+)\]", line)
            if header:
                section = header.group(1).strip()
                continue
            match = _LINE.match(line) if section == "project" else None
            if not match:
                continue
            value = _STRING.match(match.group(2)) or _TEXT_TABLE.match(match.group(2))
            if value:
                project[match.group(1)] = value.group(1).replace('\\"', '"').replace("\\\\", "\\")
    for key in ("name", "description", "requires-python"):
        if key not in project:
            raise ValueError("pyproject.toml: [project] has no %s" % key)
    return project


def _load_version_module(source_dir):
    path = os.path.join(source_dir, PACKAGE, "version.py")
    spec = importlib.util.spec_from_file_location("_rolling_restart_hook_version", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _from_pkg_info(source_dir):
    try:
        with open(os.path.join(source_dir, "PKG-INFO"), "r", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip() or None
                if not line.strip():
                    break
    except (OSError, IOError):
        pass
    return None


def project_version(source_dir):
    """rolling-restart's version: its package.json next to python-hooks/ (a checkout, the npm
    package), else the PKG-INFO of an sdist built from one."""
    version_module = _load_version_module(source_dir)
    package_dir = os.path.join(source_dir, PACKAGE)
    version = version_module.read_package_json(version_module.package_json_path(package_dir))
    version = version or _from_pkg_info(source_dir)
    if not version:
        raise ValueError(
            "cannot tell the hook's version: build it from python-hooks/ of the rolling-restart tree "
            "or npm package (it reads ../package.json), or from an sdist made there")
    return version


def dist_name(name):
    """``rolling-restart-hook`` -> ``rolling_restart_hook``, as wheel and sdist file names spell it."""
    return re.sub(r"[-_.]+", "_", name).lower()


def core_metadata(source_dir, project, version):
    """The METADATA / PKG-INFO text (core metadata 2.1), with the README as its description."""
    lines = [
        "Metadata-Version: 2.1",
        "Name: %s" % project["name"],
        "Version: %s" % version,
        "Summary: %s" % project["description"],
        "Requires-Python: %s" % project["requires-python"],
    ]
    if project.get("license"):
        lines.append("License: %s" % project["license"])
    body = ""
    readme = project.get("readme")
    if readme:
        with open(os.path.join(source_dir, readme), "r", encoding="utf-8") as handle:
            body = handle.read()
        lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + body
