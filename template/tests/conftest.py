"""Your fixtures and hooks live here.

The harness fixtures (`app`, `client`, and any async ones your answers wired in)
come from tests/harness/, which the template owns: `copier update` rewrites those
modules, and never this file. Override a harness fixture by defining one of the
same name here, e.g. `app_settings` to change the settings the app is built with.
"""

pytest_plugins = ["tests.harness"]
