"""The code blocks of the README and docs/, and how the doc tests run each one.

A ```python or ```bash block runs as it is written. An HTML comment just
before a block (invisible when the Markdown is rendered) can say more:

    <!-- snippet: continues -->        run after the file's previous block of the same language
    <!-- snippet: until TEXT -->       a server: run it until its output shows TEXT, then stop it
    <!-- snippet: expect-exit N -->    the block is expected to end with exit code N
    <!-- snippet: skip REASON -->      not run here; REASON says why (and how it is checked)

Other languages (```text, ```json, ```yaml ...) are shown, not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNABLE = ("python", "bash")
_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*snippet:\s*(\S+)\s*(.*?)\s*-->\s*$")


@dataclass
class Snippet:
    """One code block: where it is, its language, its code and what the comment before it says."""

    path: Path
    line: int
    language: str
    code: str
    directive: str = ""
    argument: str = ""
    before: list[Snippet] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    def program(self) -> str:
        """The code to run: the blocks it continues, then its own."""
        return "\n".join([*(s.code for s in self.before), self.code])


def snippets(path: Path) -> list[Snippet]:
    """Every code block of `path`, in order."""
    found: list[Snippet] = []
    lines = path.read_text().splitlines()
    directive, argument = "", ""
    index = 0
    while index < len(lines):
        line = lines[index]
        comment = _DIRECTIVE.match(line)
        fence = _FENCE.match(line)
        if comment:
            directive, argument = comment.group(1), comment.group(2)
        elif fence:
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            code = "\n".join(lines[index + 1 : end]) + "\n"
            snippet = Snippet(path, index + 1, fence.group(1), code, directive, argument)
            if directive == "continues":
                previous = [s for s in found if s.language == snippet.language]
                if not previous:
                    raise ValueError(f"{snippet.name}: nothing to continue")
                snippet.before = [*previous[-1].before, previous[-1]]
            found.append(snippet)
            directive, argument = "", ""
            index = end
        elif line.strip():
            directive, argument = "", ""
        index += 1
    return found


def all_snippets() -> list[Snippet]:
    """The runnable blocks of every document."""
    return [s for path in DOCUMENTS for s in snippets(path) if s.language in RUNNABLE]
