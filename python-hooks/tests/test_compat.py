"""The package must stay importable on Python 3.8 and use the standard library only."""

import ast
import os
import sys
import unittest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "rolling_restart_hook")
SOURCES = sorted(os.path.join(PACKAGE, name) for name in os.listdir(PACKAGE) if name.endswith(".py"))
# the build backend runs on the same interpreters, with the standard library only
BACKEND = os.path.join(os.path.dirname(PACKAGE), "build_backend")
SOURCES += sorted(os.path.join(BACKEND, name) for name in os.listdir(BACKEND) if name.endswith(".py"))
# names that only exist on 3.9+: str/bytes methods, functools.cache, zoneinfo, graphlib
NEWER_APIS = ("removeprefix", "removesuffix", "functools.cache(", "zoneinfo", "graphlib",
              "from __future__ import annotations")


class CompatibilityTest(unittest.TestCase):
    def test_sources_parse_with_the_python_3_8_grammar(self):
        self.assertGreaterEqual(len(SOURCES), 7)
        for path in SOURCES:
            with open(path) as handle:
                ast.parse(handle.read(), path, feature_version=(3, 8))

    def test_no_apis_newer_than_3_8(self):
        for path in SOURCES:
            with open(path) as handle:
                text = handle.read()
            for name in NEWER_APIS:
                self.assertNotIn(name, text, "%s uses %s" % (path, name))

    def test_only_standard_library_imports(self):
        allowed_missing = {"mod_wsgi", "uwsgi", "uwsgidecorators"}  # provided by the servers
        allowed_missing.add("hook_metadata")  # the build backend's own second module
        stdlib = getattr(sys, "stdlib_module_names", None)
        for path in SOURCES:
            with open(path) as handle:
                tree = ast.parse(handle.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in allowed_missing:
                        continue
                    if stdlib is not None:
                        self.assertIn(top, stdlib, "%s imports %s" % (path, name))


if __name__ == "__main__":
    unittest.main()
