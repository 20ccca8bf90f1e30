"""Rename answer keys in a project's answers file: `old=new` pairs.

Copier runs it as a `_migrations` entry before an update whose template renamed
a question (copier.yml shows the entry to add), with the Python running Copier:

    python hooks/migrate_answers.py .copier-answers.yml ws=websockets

Standard library only. The logic is harness_template_hooks/migrate_answers.py.
"""

import sys

from harness_template_hooks.migrate_answers import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
