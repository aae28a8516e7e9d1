"""The hook package's PEP 517 / PEP 660 build backend, in the tree (pyproject.toml's
``backend-path``) and standard library only, so ``pip install ./python-hooks`` needs nothing
from a package index: build isolation installs nothing, as ``requires`` is empty.

A wheel holds the ``rolling_restart_hook`` sources, a ``_version.py`` with the version (read
from rolling-restart's package.json: hook_metadata.py), and its dist-info. An editable wheel
holds a ``.pth`` line pointing at this directory instead; the hook then reads package.json at
run time, as it does from ``rolling-restart hook-path``.
"""

import base64
import hashlib
import io
import os
import tarfile
import time
import zipfile

import hook_metadata
from hook_metadata import PACKAGE

_GENERATED = "_version.py"
_SDIST_FILES = ("pyproject.toml", "README.md")


def _source_dir():
    # PEP 517: the hooks run with the source tree as the working directory
    return os.path.abspath(os.getcwd())


_ZIP_EPOCH = 315532800  # 1980-01-01, the earliest date a zip file can hold


def _epoch():
    """The files' date: SOURCE_DATE_EPOCH when set (reproducible builds), else 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return max(int(epoch), _ZIP_EPOCH) if epoch.isdigit() else _ZIP_EPOCH


def _license(source_dir):
    """The LICENSE text: in an sdist it sits in the directory, in the tree one level up."""
    for path in (os.path.join(source_dir, "LICENSE"), os.path.join(os.path.dirname(source_dir), "LICENSE")):
        if os.path.isfile(path):
            return _read(path)
    return None


def package_files(source_dir):
    """(archive name, path) of every module of the package, sorted; never a generated one."""
    found = []
    root = os.path.join(source_dir, PACKAGE)
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in files:
            if name.endswith(".py") and not (directory == root and name == _GENERATED):
                path = os.path.join(directory, name)
                found.append((os.path.relpath(path, source_dir).replace(os.sep, "/"), path))
    return sorted(found)


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def _write_wheel(wheel_directory, entries, project, version):
    """Write the wheel from (archive name, bytes) entries plus its dist-info; return its name."""
    dist = "%s-%s" % (hook_metadata.dist_name(project["name"]), version)
    info = dist + ".dist-info"
    wheel = "Wheel-Version: 1.0\nGenerator: rolling-restart-hook build_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries = list(entries) + [
        (info + "/METADATA", hook_metadata.core_metadata(_source_dir(), project, version).encode("utf-8")),
        (info + "/WHEEL", wheel.encode("ascii")),
        (info + "/top_level.txt", (PACKAGE + "\n").encode("ascii")),
    ]
    license_text = _license(_source_dir())
    if license_text is not None:
        entries.append((info + "/LICENSE", license_text))
    record = "\n".join([_record_line(n, d) for n, d in entries] + [info + "/RECORD,,", ""])
    entries.append((info + "/RECORD", record.encode("utf-8")))
    filename = dist + "-py3-none-any.whl"
    stamp = time.gmtime(_epoch())[:6]
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            member = zipfile.ZipInfo(name, stamp)
            member.external_attr = 0o644 << 16
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, data)
    return filename


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    source = _source_dir()
    project = hook_metadata.read_project(source)
    version = hook_metadata.project_version(source)
    entries = [(name, _read(path)) for name, path in package_files(source)]
    generated = "# written by the build (python-hooks/build_backend); the source is package.json\nVERSION = %r\n" % version
    entries.append((PACKAGE + "/" + _GENERATED, generated.encode("utf-8")))
    return _write_wheel(wheel_directory, entries, project, version)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    source = _source_dir()
    project = hook_metadata.read_project(source)
    version = hook_metadata.project_version(source)
    pth = (source + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [(PACKAGE + ".pth", pth)], project, version)


def build_sdist(sdist_directory, config_settings=None):
    """A .tar.gz of the package, this backend and PKG-INFO (which then gives the version)."""
    source = _source_dir()
    project = hook_metadata.read_project(source)
    version = hook_metadata.project_version(source)
    base = "%s-%s" % (hook_metadata.dist_name(project["name"]), version)
    members = [(name, _read(os.path.join(source, name))) for name in _SDIST_FILES]
    members += [(name, _read(path)) for name, path in package_files(source)]
    backend_dir = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(backend_dir)):
        if name.endswith(".py"):
            members.append(("build_backend/" + name, _read(os.path.join(backend_dir, name))))
    license_text = _license(source)
    if license_text is not None:
        members.append(("LICENSE", license_text))
    members.append(("PKG-INFO", hook_metadata.core_metadata(source, project, version).encode("utf-8")))
    filename = base + ".tar.gz"
    mtime = _epoch()
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            member = tarfile.TarInfo(base + "/" + name)
            member.size, member.mode, member.mtime = len(data), 0o644, mtime
            archive.addfile(member, io.BytesIO(data))
    return filename
