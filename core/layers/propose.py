"""Dockerfile edits for layer hints: the fix a hint describes, as a Proposal for the review screen.

Offered where the minimal edit is clear: apt lists left behind (append the cleanup to that RUN), a pip
cache (`--no-cache-dir`), a chmod copy-up after a plain COPY (`COPY --chmod`, the RUN removed; otherwise
a comment suggesting it). Each edit is made against the Dockerfile as it is on disk, must touch only the
instruction's lines, and is refused with a reason when the line no longer matches.
"""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from pathlib import Path

from core.dockerfile import Dockerfile, Instruction, parse_dockerfile
from core.layers.hints import format_bytes
from core.layers.model import Hint, LayerReport
from core.patching import PathRefused, Producer, Proposal, Safety, check_path, make_modify
from core.patching.textedit import EditCheckFailed, assert_only_span_changed, decode

APT_CLEANUP = " && rm -rf /var/lib/apt/lists/*"
_PIP_INSTALL = re.compile(r"\b(?:pip[\d.]*|python[\d.]*\s+-m\s+pip)\s+install\b")
_OCTAL = re.compile(r"^[0-7]{3,4}$")


class NoProposal(Exception):
    """This hint has no safe automatic edit; `str()` says why, for the user."""


def hint_kind(hint: Hint) -> str | None:
    """Which edit a hint maps to ("apt", "pip", "chmod"), or None when it maps to none."""
    if hint.rule == "apt-leftovers":
        return "apt"
    if hint.rule == "package-cache" and hint.title.startswith("pip "):
        return "pip"
    if hint.rule == "copy-up" and "chmod" in hint.title:
        return "chmod"
    return None


def may_propose(hint: Hint) -> bool:
    """Whether a hint could offer an edit at all (its kind has one and it knows its Dockerfile line)."""
    return hint_kind(hint) is not None and hint.dockerfile_line is not None


def _instruction_at(dockerfile: Dockerfile, line: int, keyword: str, path: str) -> Instruction:
    for instruction in dockerfile.instructions:
        if instruction.line == line:
            if keyword and instruction.keyword != keyword:
                break
            return instruction
    raise NoProposal(f"line {line} of {path} is no longer the {keyword or 'instruction'} that made the "
                     "layer; analyse the image again")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _last_line_edit(text: str, instruction: Instruction, dockerfile: Dockerfile, suffix: str) -> str:
    """Append `suffix` to the shell command at the end of a RUN's last line."""
    if instruction.is_json or instruction.heredocs:
        raise NoProposal("the RUN is in exec (JSON) form or uses a heredoc; edit it by hand")
    lines = _lines(text)
    last = lines[instruction.end_line - 1]
    body = last.rstrip("\r")
    code = body.rstrip()
    if code.endswith(dockerfile.escape) or "#" in code:
        raise NoProposal("the RUN's last line ends in a continuation or a comment; edit it by hand")
    lines[instruction.end_line - 1] = code + suffix + body[len(code):] + last[len(body):]
    return "\n".join(lines)


def _apt_edit(text: str, dockerfile: Dockerfile, hint: Hint, path: str) -> tuple[str, list[int], str]:
    run = _instruction_at(dockerfile, hint.dockerfile_line or 0, "RUN", path)
    if "/var/lib/apt/lists" in run.shell_text and "rm " in run.shell_text:
        raise NoProposal("that RUN already removes /var/lib/apt/lists")
    new = _last_line_edit(text, run, dockerfile, APT_CLEANUP)
    why = (f"{format_bytes(hint.bytes)} of apt package lists stay in the layer of line {run.line}. Deleting "
           "them in the same RUN keeps them out of the image; a later RUN could only hide them.")
    return new, [run.line, run.end_line], why


def _pip_edit(text: str, dockerfile: Dockerfile, hint: Hint, path: str) -> tuple[str, list[int], str]:
    run = _instruction_at(dockerfile, hint.dockerfile_line or 0, "RUN", path)
    if run.is_json:
        raise NoProposal("the RUN is in exec (JSON) form; edit it by hand")
    if "--no-cache-dir" in run.shell_text:
        raise NoProposal("that RUN already passes --no-cache-dir")
    lines = _lines(text)
    changed = 0
    for number in range(run.line, run.end_line + 1):
        line, count = _PIP_INSTALL.subn(lambda m: m.group(0) + " --no-cache-dir", lines[number - 1])
        lines[number - 1] = line
        changed += count
    if not changed:
        raise NoProposal(f"the RUN at line {run.line} has no `pip install` to change")
    why = (f"{format_bytes(hint.bytes)} of pip's download cache stay in the layer of line {run.line}; "
           "pip install --no-cache-dir never writes it.")
    return "\n".join(lines), [run.line, run.end_line], why


def _copy_writer(report: LayerReport, changer: int) -> int:
    """The layer whose files layer `changer` copied up the most bytes of."""
    sizes: dict[int, int] = defaultdict(int)
    for written, hidden, cause, size, _count in report.events.totals():
        if hidden == changer and cause.is_copy_up and written != changer:
            sizes[written] += size
    if not sizes:
        raise NoProposal("the layer that wrote the copied-up files is unknown")
    return max(sizes, key=lambda k: (sizes[k], k))


def _plain_chmod(run: Instruction) -> tuple[str, set[str]] | None:
    """(mode, paths) when the RUN is exactly one `chmod OCTAL PATH...` command."""
    if run.is_json or run.heredocs:
        return None
    try:
        words = shlex.split(run.args)
    except ValueError:
        return None
    if len(words) < 3 or words[0] != "chmod" or not _OCTAL.match(words[1]):
        return None
    if any(any(ch in w for ch in ";&|<>$`*?") for w in words[2:]):
        return None
    return words[1], {w.rstrip("/") for w in words[2:]}


def _chmod_edit(text: str, dockerfile: Dockerfile, hint: Hint, report: LayerReport,
                path: str) -> tuple[str, list[int], str]:
    writer = report.layers[_copy_writer(report, hint.layer if hint.layer is not None else -1)]
    if writer.keyword not in ("COPY", "ADD") or writer.dockerfile_line is None:
        raise NoProposal("the files were not written by a COPY or ADD of this Dockerfile")
    copy = _instruction_at(dockerfile, writer.dockerfile_line, writer.keyword, path)
    if copy.flag("chmod") is not None:
        raise NoProposal(f"the {copy.keyword} at line {copy.line} already sets --chmod")
    run = _instruction_at(dockerfile, hint.dockerfile_line or 0, "RUN", path)
    lines = _lines(text)
    first = lines[copy.line - 1]
    at = first.upper().find(copy.keyword)
    chmod = _plain_chmod(run)
    destination = copy.args.split()[-1].rstrip("/") if copy.args.split() and not copy.is_json else ""
    saved = format_bytes(hint.bytes)
    if chmod is not None and chmod[1] == {destination} and len(copy.args.split()) == 2:
        mode = chmod[0]
        cut = at + len(copy.keyword)
        lines[copy.line - 1] = first[:cut] + f" --chmod={mode}" + first[cut:]
        del lines[run.line - 1: run.end_line]
        why = (f"`{run.args.strip()}` re-stores the copied file in a new layer ({saved}) only to change "
               f"its mode; COPY --chmod={mode} sets it as it is copied (BuildKit, the default builder).")
        return "\n".join(lines), [copy.line, copy.end_line, run.line, run.end_line], why
    indent = first[: len(first) - len(first.lstrip())]
    note = (f"{indent}# devops-tui: line {run.line} copies these files up again ({saved}) only to change "
            "their mode; set it here with --chmod=MODE (BuildKit) and drop that chmod")
    lines.insert(copy.line - 1, note)
    why = (f"Line {run.line} changes the mode of files this {copy.keyword} wrote, which stores them a "
           f"second time ({saved}). The chmod is not a plain `chmod MODE {destination}`, so this only notes "
           "the fix.")
    return "\n".join(lines), [copy.line, copy.end_line], why


def propose_for_hint(root: Path, dockerfile_path: str | None, report: LayerReport, hint: Hint) -> Proposal:
    """The Dockerfile edit that answers `hint`, against `dockerfile_path` (repo-relative) on disk now."""
    kind = hint_kind(hint)
    if kind is None:
        raise NoProposal("this hint has no automatic edit; follow its advice by hand")
    if dockerfile_path is None or hint.dockerfile_line is None:
        raise NoProposal("pick the image's Dockerfile in the picker (p) and analyse again to map its lines")
    try:
        before = check_path(root, dockerfile_path).read_bytes()
    except PathRefused as exc:
        raise NoProposal(str(exc)) from None
    except OSError as exc:
        raise NoProposal(f"cannot read {dockerfile_path}: {exc.strerror}") from None
    text = decode(before)
    dockerfile = parse_dockerfile(text)
    if kind == "apt":
        new, span, why = _apt_edit(text, dockerfile, hint, dockerfile_path)
        title = f"Remove apt lists in the RUN at line {hint.dockerfile_line}"
    elif kind == "pip":
        new, span, why = _pip_edit(text, dockerfile, hint, dockerfile_path)
        title = f"pip install --no-cache-dir at line {hint.dockerfile_line}"
    else:
        new, span, why = _chmod_edit(text, dockerfile, hint, report, dockerfile_path)
        title = "Set the mode with COPY --chmod"
    spans: list[tuple[int, int]] = []
    for first, last in sorted((span[i], span[i + 1]) for i in range(0, len(span), 2)):
        if spans and first <= spans[-1][1] + 1:  # adjacent instructions form one span
            spans[-1] = (spans[-1][0], max(last, spans[-1][1]))
        else:
            spans.append((first, last))
    try:
        assert_only_span_changed(text, new, spans)
    except EditCheckFailed as exc:
        raise NoProposal(f"the edit would touch more than the instruction: {exc}") from None
    return Proposal(title, why, Producer.LAYERS, (make_modify(root, dockerfile_path, new),),
                    rule_ids=(f"layers:{hint.rule}",), safety=Safety.REVIEW)
