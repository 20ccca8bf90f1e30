"""The logic of the template's hooks, one module a concern.

Copier runs the thin scripts beside this package (hooks/<name>.py, each calling
`main` of the module of its name here); extensions.py and the template's tests
import the package with hooks/ on sys.path. Its name is its own, so that no
module of a project or of Copier's environment can be found in its place.
Importing it imports nothing: migrate_answers and move_path need only the
standard library.
"""
