"""Update hook: an update neither silently deletes the team's work nor leaves a
deleted harness module missing.

Run (hooks/update_guard.py) by `copier update --trust` as two migrations:

    update_guard.py before ANSWERS_FILE TEMPLATE OLD_REF
        Ahead of the update, while the project is untouched: render what the
        template rendered last time (its version OLD_REF, the recorded answers)
        next to the project's git data, and put back every template-owned module
        of tests/harness/ the project has lost, as it was rendered then, so the
        update carries it to the new release like any other file.
    update_guard.py after
        Once the update is done: a file the update deleted because the template
        no longer renders it (a feature turned off, a release moving it) is
        kept, from the last commit, if the team changed it since it was
        rendered; the message names each file and what to do with it. Files as
        the template rendered them go. A file the template renders again (a
        feature turned back on) where the team kept its own version is the
        team's: it stays as committed, instead of a merge with no common base
        that can only conflict.

Copier refuses to update a project with uncommitted changes, so the last commit
is the project as it was before the update.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .adopt_support import in_project

HARNESS = "tests/harness"


def harness_module(name: str) -> bool:
    """A file of the harness's package: in tests/harness/, or, adopted, in the
    harness/ directory beside the project's tests (src/tests/harness/...)."""
    return name.startswith(f"{HARNESS}/") or "/harness/fastapi_harness/" in name


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def last_render(project: Path) -> Path:
    """Where the last render is kept during an update: inside the git directory,
    so it is never part of the project's tree."""
    git_dir = Path(git(project, "rev-parse", "--absolute-git-dir").strip())
    # Named as Copier names its own scratch copies: the adoption's validators,
    # which read the project they render into, leave it alone (an adopted
    # project's last version would otherwise be refused there, its app not
    # importable from an empty directory).
    return git_dir / "copier-fastapi-harness" / "copier._main.old_copy.last-render"


def files_under(root: Path) -> list[str]:
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )


def render_last_version(
    project: Path, answers_file: str, template: str, old_ref: str
) -> Path:
    import copier
    import yaml

    answers = yaml.safe_load((project / answers_file).read_text()) or {}
    destination = last_render(project)
    shutil.rmtree(destination, ignore_errors=True)
    copier.run_copy(
        template,
        str(destination),
        data={key: value for key, value in answers.items() if not key.startswith("_")},
        vcs_ref=old_ref,
        answers_file=answers_file,
        defaults=True,
        quiet=True,
        unsafe=True,
        skip_tasks=True,
    )
    return destination


def before(project: Path, answers_file: str, template: str, old_ref: str) -> None:
    try:
        rendered = render_last_version(project, answers_file, template, old_ref)
    except Exception as error:  # the update itself may still work
        shutil.rmtree(last_render(project), ignore_errors=True)
        print(
            f"Could not render the template's version {old_ref} ({error}): this "
            f"update neither restores modules missing from {HARNESS}/ nor keeps "
            "files it deletes that hold your changes. Check `git status` after it."
        )
        return
    restored = [
        name
        for name in files_under(rendered)
        if harness_module(name) and not (project / name).exists()
    ]
    for name in restored:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(rendered / name, project / name)
        git(project, "add", "--", name)
        print(
            f"{name}: restored. The template owns {HARNESS}/ and the suite loads "
            "every module of it; turn a feature off with its answer instead "
            "(copier update --trust -d ...)."
        )


def in_last_commit(project: Path, name: str) -> bool:
    found = subprocess.run(
        ["git", "cat-file", "-e", f"HEAD:./{name}"], cwd=project, check=False
    )
    return found.returncode == 0


def keep_teams_versions(project: Path, rendered: Path) -> list[str]:
    """Resolve, to the last commit's version, each file the update left
    unmerged that the last render did not have: a file the team kept while its
    feature was off (or wrote itself) that the template renders again. Copier
    merges the two with no common base, so every line conflicts; the team's
    version already holds what the template rendered when it was made."""
    unmerged = git(project, "diff", "--name-only", "--diff-filter=U").splitlines()
    resolved = [
        name
        for name in unmerged
        if not (rendered / name).exists() and in_last_commit(project, name)
    ]
    for name in resolved:
        git(project, "checkout", "HEAD", "--", name)
    return resolved


def after(project: Path) -> None:
    rendered = last_render(project)
    if not rendered.is_dir():
        return
    yours = keep_teams_versions(project, rendered)
    if yours:
        print(
            "Kept as you had them, though the template renders them again (an "
            "answer turned back on):\n"
            + "".join(f"  {name}\n" for name in yours)
            + "The template's own version of each is not merged in: compare with "
            "a fresh render if you want what changed in it."
        )
    kept = []
    for name in git(project, "ls-files", "--deleted").splitlines():
        if not (rendered / name).is_file():
            continue
        committed = subprocess.run(
            ["git", "show", f"HEAD:./{name}"],
            cwd=project,
            capture_output=True,
            check=False,
        )
        if committed.returncode != 0:
            # Not in the last commit: a harness module put back before the
            # update, which the new answers no longer render. Unstage it.
            git(project, "rm", "-q", "--cached", "--", name)
            continue
        if committed.stdout != (rendered / name).read_bytes():
            git(project, "checkout", "HEAD", "--", name)
            kept.append(name)
    shutil.rmtree(rendered.parent, ignore_errors=True)
    if kept:
        print(
            "Kept, because they hold your changes, though the template no longer "
            "renders them (an answer turned off, or a release moved them):\n"
            + "".join(f"  {name}\n" for name in kept)
            + "They may use what the update removed (a fixture, a module): move "
            "what you want to keep into files of your own, and delete the rest "
            "with `git rm`."
        )


@in_project
def main(project: Path, arguments: list[str]) -> int:
    stage, *rest = arguments
    if stage == "before":
        before(project, *rest)
    elif stage == "after":
        after(project)
    else:
        print(f"update_guard.py: unknown stage {stage!r}", file=sys.stderr)
        return 2
    return 0
