"""Rename answer keys in a project's answers file (`old=new`), and answer
values of a renamed choice (`key:old=new`).

Copier runs it as a `_migrations` entry before an update whose template renamed
a question or a choice (copier.yml shows the entries), with the Python running
Copier:

    python hooks/migrate_answers.py .copier-answers.yml ws=websockets
    python hooks/migrate_answers.py .copier-answers.yml scaffold:harness=adopt

Standard library only. The logic is harness_template_hooks/migrate_answers.py.
"""

import sys

from harness_template_hooks.migrate_answers import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
