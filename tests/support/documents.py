"""The commands the project's documents give: their ```console blocks."""

import re

RUNS_COPIER = re.compile(r"(^|\s)copier (copy|update|recopy)\b")


def console_blocks(markdown: str) -> list[list[str]]:
    """The command lines of each ```console block, in order."""
    return [
        [line for line in block.splitlines() if line.strip()]
        for block in re.findall(r"^```console\n(.*?)^```", markdown, re.M | re.S)
    ]


def copier_command_lines(markdown: str) -> list[str]:
    """Lines of console blocks that run Copier (continuations joined)."""
    commands = []
    for block in console_blocks(markdown):
        joined = "\n".join(block).replace("\\\n", " ")
        commands += [line for line in joined.splitlines() if RUNS_COPIER.search(line)]
    return commands
