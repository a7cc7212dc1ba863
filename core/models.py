"""The shared data model: files, kinds, severities and findings.

Everything here is a frozen dataclass or an enum so that scanners, reports and the UI can pass values
around (and across process boundaries) without worrying about who mutates what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class FileKind(StrEnum):
    """What an infrastructure file is; decides which parser and which rules apply."""

    DOCKERFILE = "dockerfile"
    COMPOSE = "compose"
    GHA_WORKFLOW = "gha-workflow"
    GHA_ACTION = "gha-action"
    GITLAB_CI = "gitlab-ci"
    K8S = "k8s"
    ENV = "env"
    SHELL = "shell"
    YAML = "yaml"  # YAML that is none of the above; still scanned for secrets
    OTHER = "other"  # any other text file; scanned for secrets only

    @property
    def group(self) -> str:
        """The heading this kind is shown under in the infrastructure tree."""
        return KIND_GROUPS[self]

    @property
    def is_infra(self) -> bool:
        """Whether the file belongs in the infrastructure tree."""
        return self not in (FileKind.YAML, FileKind.OTHER)

    @property
    def is_yaml(self) -> bool:
        return self in YAML_KINDS


KIND_GROUPS: dict[FileKind, str] = {
    FileKind.DOCKERFILE: "Docker",
    FileKind.COMPOSE: "Compose",
    FileKind.GHA_WORKFLOW: "GitHub Actions",
    FileKind.GHA_ACTION: "GitHub Actions",
    FileKind.GITLAB_CI: "GitLab CI",
    FileKind.K8S: "Kubernetes",
    FileKind.ENV: "Env",
    FileKind.SHELL: "Scripts",
    FileKind.YAML: "Other YAML",
    FileKind.OTHER: "Other",
}

#: Tree groups in display order.
GROUP_ORDER: tuple[str, ...] = (
    "Docker",
    "Compose",
    "GitHub Actions",
    "GitLab CI",
    "Kubernetes",
    "Env",
    "Scripts",
)

YAML_KINDS = frozenset(
    {
        FileKind.COMPOSE,
        FileKind.GHA_WORKFLOW,
        FileKind.GHA_ACTION,
        FileKind.GITLAB_CI,
        FileKind.K8S,
        FileKind.YAML,
    }
)


class Severity(IntEnum):
    """Finding severity; ordered so that `max()` gives the worst."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse a user-written severity ('high', 'HIGH', 'warning' is not accepted)."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r}; expected one of {names}") from None


class GitStatus(StrEnum):
    """A file's state in git, as shown beside it in the tree."""

    CLEAN = "clean"
    MODIFIED = "modified"
    STAGED = "staged"
    UNTRACKED = "untracked"
    IGNORED = "ignored"
    NOT_GIT = "not-git"

    @property
    def badge(self) -> str:
        return _GIT_BADGES[self]


_GIT_BADGES = {
    GitStatus.CLEAN: "",
    GitStatus.MODIFIED: "M",
    GitStatus.STAGED: "A",
    GitStatus.UNTRACKED: "?",
    GitStatus.IGNORED: "!",
    GitStatus.NOT_GIT: "",
}


@dataclass(frozen=True, slots=True)
class InfraFile:
    """One text file of the repository that discovery kept.

    `path` is repo-relative and uses forward slashes; `sha256` is of the raw bytes on disk and is the
    key of every cache. `decode_note` says when the bytes were not valid UTF-8 (the text then carries
    replacement characters) so the user can see why a rule may have missed something.
    """

    path: str
    kind: FileKind
    size: int
    sha256: str
    decode_note: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def directory(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file discovery saw but did not keep, with the reason shown to the user."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line/column range in a file; `end_column` is exclusive."""

    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None

    @property
    def last_line(self) -> int:
        return self.end_line if self.end_line is not None else self.line


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """Why a file could not be parsed; becomes a finding, never a silent skip."""

    message: str
    line: int = 1
    column: int = 1


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by one rule at one place.

    `message` never contains a secret value: detectors redact before they build the message.
    `fingerprint` is stable across unrelated edits (it hashes the rule, the path and the normalised
    content of the flagged line, not its number), so baselines and SARIF fingerprints survive.
    """

    rule_id: str
    severity: Severity
    path: str
    position: Position
    message: str
    fingerprint: str
    kind: FileKind = FileKind.OTHER
    snippet: str = ""
    fixable: bool = False
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def line(self) -> int:
        return self.position.line
