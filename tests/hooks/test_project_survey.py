"""harness_template_hooks/project_survey.py on its own: the project's fixtures
are asked of its pytest only when a name asked after could be one of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness_template_hooks import project_survey

pytestmark = pytest.mark.quick

# Tests that use `client` everywhere, and define one of their own in a test
# module: a fixture only that module's tests see, never the harness's.
TEST_MODULE = """\
import pytest


@pytest.fixture
def client():
    return object()


def test_client(client):
    assert client is not None
"""


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"pyproject.toml": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def collected(survey: project_survey.Survey) -> bool:
    """Whether the survey ran the project's pytest (its fixtures were read)."""
    return "fixtures" in vars(survey)


def test_names_the_project_never_defines_need_no_pytest_run(tmp_path: Path) -> None:
    survey = project_survey.survey(
        project(tmp_path, {"tests/test_items.py": TEST_MODULE, "tests/conftest.py": ""})
    )

    assert survey.fixtures_named(["client", "anyio_backend"]) == []
    assert survey.fixture("anyio_backend") is None
    assert not collected(survey)


def test_a_fixture_named_by_a_string_is_collected(tmp_path: Path) -> None:
    """`name="client"` on a function named otherwise, star-imported by the
    conftest: the name is only a string, and pytest alone knows it is a fixture."""
    survey = project_survey.survey(
        project(
            tmp_path,
            {
                "tests/__init__.py": "",
                "tests/conftest.py": "from tests.fixtures import *  # noqa: F403\n",
                "tests/fixtures.py": (
                    "import pytest\n\n\n"
                    '@pytest.fixture(name="client")\n'
                    "def make_client():\n"
                    "    return object()\n"
                ),
                "tests/test_items.py": TEST_MODULE.replace("def client", "def own"),
            },
        )
    )

    found = survey.fixtures_named(["client", "db_session"])

    assert [(f.name, f.file) for f in found] == [("client", "tests/fixtures.py")]
    assert collected(survey)


def test_a_conftest_fixture_is_collected_and_a_test_modules_is_not(
    tmp_path: Path,
) -> None:
    survey = project_survey.survey(
        project(
            tmp_path,
            {
                "tests/conftest.py": (
                    "import pytest\n\n\n@pytest.fixture\ndef db_session():\n"
                    "    return None\n"
                ),
                "tests/test_items.py": TEST_MODULE,
            },
        )
    )

    found = survey.fixtures_named(["client", "db_session"])

    assert [(f.name, f.file) for f in found] == [("db_session", "tests/conftest.py")]


def test_a_file_that_does_not_parse_leaves_the_question_to_pytest(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, {"tests/conftest.py": "", "tools/broken.py": "def (:\n"})

    assert project_survey.possible_fixture_names(root) is None
    survey = project_survey.survey(root)
    assert survey.fixtures_named(["client"]) == []
    assert collected(survey)
