"""Adopt hook: check that the answered import paths name real objects.

Copier runs it first of the adopt tasks (copier.yml `_tasks`, scaffold=adopt),
in the project after rendering, with the Python running Copier:
    check_imports.py app_import=pkg.module:app db_metadata=pkg.models:Base ...
    --environment=<JSON of async_db, cache and the environment answers>
Empty answers are skipped. The logic is harness_template_hooks/check_imports.py.
"""

import sys

from harness_template_hooks.adopt_support import run_hook
from harness_template_hooks.check_imports import main

if __name__ == "__main__":
    sys.exit(run_hook(main, sys.argv[1:]))
