"""Adopt hook: register the harness (<tests_dir>/harness/) as a pytest plugin.

Copier runs it last of the adopt tasks (copier.yml `_tasks`, scaffold=adopt),
in the project after rendering, with the Python running Copier and a JSON object
of the answers as its one argument. The logic is
harness_template_hooks/register_harness.py.
"""

import sys

from harness_template_hooks.adopt_support import run_hook
from harness_template_hooks.register_harness import main

if __name__ == "__main__":
    sys.exit(run_hook(main, sys.argv[1:]))
