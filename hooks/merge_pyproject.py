"""Adopt hook: add the harness's test dependencies and pytest settings to the
files the project keeps its own in.

Copier runs it in the project after rendering (copier.yml `_tasks`,
scaffold=adopt), with the Python running Copier (which needs tomlkit), and a
JSON object of the answers as its one argument. The logic is
harness_template_hooks/merge_pyproject.py.
"""

import sys

from harness_template_hooks.adopt_support import run_hook
from harness_template_hooks.merge_pyproject import main

if __name__ == "__main__":
    sys.exit(run_hook(main, sys.argv[1:]))
