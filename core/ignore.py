"""`.gitignore` matching for folders that are not git repositories.

Git itself answers for repositories (discovery asks it); this covers the plain-folder case with the
rules users rely on: `#` comments, `!` negation, trailing `/` for directories, a leading or middle
`/` anchoring to the file's folder, `*`, `?`, `[...]` and `**`. Nested `.gitignore` files apply to
their own subtree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if pattern[i : i + 3] == "**/":
                out.append("(?:.*/)?")
                i += 3
                continue
            if pattern[i : i + 2] == "**":
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class IgnoreRules:
    """The combined ignore rules of a folder tree; later and deeper rules win, like git's."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, _Pattern]] = []  # (base dir, pattern)

    def add_file(self, base: str, text: str) -> None:
        """Add the patterns of the `.gitignore` found in repo-relative folder `base` ('' for root)."""
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            if not line:
                continue
            anchored = "/" in line
            line = line.lstrip("/")
            body = _translate(line)
            regex = f"^{body}(?:/.*)?$" if anchored else f"^(?:.*/)?{body}(?:/.*)?$"
            self._rules.append((base, _Pattern(re.compile(regex), negate, dir_only)))

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether repo-relative `path` is ignored."""
        result = False
        for base, pattern in self._rules:
            if base:
                if not path.startswith(base + "/"):
                    continue
                rel = path[len(base) + 1 :]
            else:
                rel = path
            if pattern.dir_only and not is_dir:
                # `build/` also ignores files below a folder called build.
                parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
                if not parent or not pattern.regex.match(parent):
                    continue
            elif not pattern.regex.match(rel):
                continue
            result = not pattern.negate
        return result
