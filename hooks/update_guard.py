"""Update hook: an update neither silently deletes the team's work nor leaves a
deleted harness module missing.

`copier update --trust` runs it as two migrations (copier.yml `_migrations`),
with the Python running Copier:

    update_guard.py before ANSWERS_FILE TEMPLATE OLD_REF
        ahead of the update, while the project is untouched
    update_guard.py after
        once the update is done

The logic, and what each stage does, is harness_template_hooks/update_guard.py.
"""

import sys

from harness_template_hooks.update_guard import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
