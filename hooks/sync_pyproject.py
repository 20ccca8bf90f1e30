"""Service hook: keep a new service's pyproject.toml in step with its answers.

Copier runs it with the Python running Copier (which needs tomlkit) and a JSON
object of the answers as its one argument: after `copier copy` as a task
(copier.yml `_tasks`), after `copier update` as a migration (`_migrations`, once
the team's edits are merged back in). The logic is
harness_template_hooks/sync_pyproject.py.
"""

import sys

from harness_template_hooks.sync_pyproject import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
