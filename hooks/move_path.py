"""Move a file of the project to where a newer template version renders it.

Copier runs it as a `before` `_migrations` entry when the template moves one of
its modules, with the Python running Copier, the old path and the new one:

    python hooks/move_path.py tests/harness/clients.py tests/harness/sync_client.py

Standard library and git only. The logic is harness_template_hooks/move_path.py.
"""

import sys

from harness_template_hooks.move_path import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
