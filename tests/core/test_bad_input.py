"""Bad input never crashes discovery: each odd file is kept with a note or skipped with a reason."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from core.discovery import InfraIndex, build_index
from core.models import FileKind
from tests.conftest import write_tree

Folder = Callable[[dict[str, str | bytes]], Path]


def reasons(index: InfraIndex) -> dict[str, str]:
    return {s.path: s.reason for s in index.skipped}


def test_binary_infra_file_is_skipped_and_other_binaries_are_silent(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"Dockerfile": b"FROM a\x00\x01", "logo.png": b"\x89PNG\x00\x00", "ok.sh": "echo\n"})
    index = build_index(root)
    assert set(index.files) == {"ok.sh"}
    assert reasons(index) == {"Dockerfile": "binary content (NUL bytes)"}


def test_invalid_utf8_is_kept_with_a_note(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"Dockerfile": b"FROM alpine:3.19\nLABEL a=\xff\xfe\nUSER app\n"})
    index = build_index(root)
    file = index.files["Dockerfile"]
    assert file.kind is FileKind.DOCKERFILE
    assert file.decode_note is not None and "0xff" in file.decode_note and "offset 25" in file.decode_note
    parsed = index.parsed["Dockerfile"]
    assert "\ufffd" in parsed.text
    assert parsed.dockerfile is not None and [i.keyword for i in parsed.dockerfile.instructions] == [
        "FROM", "LABEL", "USER"]


def test_file_over_the_size_cap_is_skipped(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"big.sh": "echo " + "x" * 300 + "\n", "small.sh": "echo\n"})
    index = build_index(root, max_bytes=200)
    assert set(index.files) == {"small.sh"}
    assert reasons(index)["big.sh"].startswith("larger than the 0 KiB cap (306 bytes)")


@pytest.mark.parametrize("mode", ["git", "folder"])
def test_symlinks_loop_escape_and_inside(mode: str, make_repo: Callable[..., Path], make_folder: Folder,
                                         tmp_path: Path) -> None:
    outside = tmp_path / "outside.env"
    outside.write_text("TOKEN=outside\n")
    files: dict[str, str | bytes] = {"real.sh": "echo real\n"}
    root = make_repo(files, commit=False) if mode == "git" else make_folder(files)
    os.symlink("loop-b", root / "loop-a")
    os.symlink("loop-a", root / "loop-b")
    os.symlink(outside, root / "escape.env")
    os.symlink("real.sh", root / "alias.sh")
    os.symlink("missing-target", root / "broken.sh")
    index = build_index(root)
    assert set(index.files) == {"real.sh", "alias.sh"}
    assert index.parsed["alias.sh"].text == "echo real\n"
    assert reasons(index) == {
        "loop-a": "symbolic link loop",
        "loop-b": "symbolic link loop",
        "escape.env": "symbolic link leaves the repository",
        "broken.sh": "broken symbolic link",
    }


def test_symlinked_folder_is_not_followed_outside_git(make_folder: Folder) -> None:
    root = make_folder({"real/Dockerfile": "FROM a:1\n"})
    os.symlink("real", root / "again")
    index = build_index(root)
    assert set(index.files) == {"real/Dockerfile"}
    assert reasons(index) == {"again": "symbolic link to a folder (not followed)"}


def test_fifo_does_not_block_and_is_skipped(make_folder: Folder) -> None:
    root = make_folder({"Dockerfile": "FROM a:1\n"})
    os.mkfifo(root / "pipe.env")
    result: list[InfraIndex] = []
    worker = threading.Thread(target=lambda: result.append(build_index(root)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():  # unblock the stuck reader so the test process can exit
        with open(root / "pipe.env", "w"):
            pass
        pytest.fail("discovery blocked on a FIFO")
    assert set(result[0].files) == {"Dockerfile"}
    assert reasons(result[0]) == {"pipe.env": "not a regular file"}


def _discover_as_nobody(root: Path) -> tuple[list[str], dict[str, str]]:
    """Run discovery in a forked child that dropped root privileges; return kept files and skip reasons."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            index = build_index(root)
            payload = json.dumps({"files": sorted(index.files), "skipped": reasons(index)})
            os.write(write_end, payload.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "discovery failed in the unprivileged child"
    result = json.loads(data)
    return result["files"], result["skipped"]


def _nobody_folder(files: dict[str, str | bytes]) -> Path:
    """A folder outside pytest's private temp tree, so an unprivileged child can enter it."""
    base = Path(tempfile.mkdtemp(prefix="devops-tui-perm-"))
    base.chmod(0o755)
    write_tree(base, files)
    for folder, dirs, names in os.walk(base):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o755)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o644)
    return base


def test_unreadable_file_is_skipped(make_folder: Folder) -> None:
    files: dict[str, str | bytes] = {"secret.env": "A=1\n", "ok.sh": "echo\n"}
    if os.geteuid() != 0:
        root = make_folder(files)
        (root / "secret.env").chmod(0)
        try:
            index = build_index(root)
        finally:
            (root / "secret.env").chmod(0o644)
        assert set(index.files) == {"ok.sh"}
        assert reasons(index) == {"secret.env": "permission denied"}
        return
    # Root reads any file, so drop to `nobody` in a child process, in a folder that user may enter.
    base = _nobody_folder(files)
    try:
        (base / "secret.env").chmod(0)
        assert _discover_as_nobody(base) == (["ok.sh"], {"secret.env": "permission denied"})
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(os.geteuid() != 0, reason="checks what root sees: mode 000 does not stop root")
def test_mode_000_file_is_still_read_by_root(make_folder: Folder) -> None:
    root = make_folder({"secret.env": "A=1\n"})
    (root / "secret.env").chmod(0)
    assert build_index(root).parsed["secret.env"].env[0].key == "A"


def test_unlistable_folder_is_reported(make_folder: Folder) -> None:
    files: dict[str, str | bytes] = {"locked/Dockerfile": "FROM a:1\n", "Dockerfile": "FROM a:1\n"}
    if os.geteuid() != 0:
        root = make_folder(files)
        (root / "locked").chmod(0)
        try:
            kept, skipped = sorted(build_index(root).files), reasons(build_index(root))
        finally:
            (root / "locked").chmod(0o755)
    else:
        root = _nobody_folder(files)
        try:
            (root / "locked").chmod(0)
            kept, skipped = _discover_as_nobody(root)
        finally:
            (root / "locked").chmod(0o755)
            shutil.rmtree(root)
    assert kept == ["Dockerfile"]
    assert skipped == {"locked": "cannot list folder: Permission denied"}


@pytest.mark.parametrize(
    ("path", "text", "kind", "line"),
    [
        (".github/workflows/ci.yml", "on: push\njobs:\n  a: [unclosed\n", FileKind.GHA_WORKFLOW, 3),
        ("docker-compose.yml", "services:\n  web:\n    image: nginx\n   bad: indent\n", FileKind.COMPOSE, 4),
        (".gitlab-ci.yml", "build:\n  script:\n    - make\n  - bad\n", FileKind.GITLAB_CI, 4),
        ("k8s/deploy.yaml", "apiVersion: v1\nkind: Pod\nspec: {a: [}\n", FileKind.K8S, 3),
        (".github/actions/x/action.yml", "runs:\n\tusing: composite\n", FileKind.GHA_ACTION, 2),
        ("conf/app.yaml", "services:\n  - a\n b: c\n", FileKind.YAML, 3),
    ],
)
def test_malformed_yaml_is_kept_with_its_problem_under_the_right_kind(
    make_repo: Callable[..., Path], path: str, text: str, kind: FileKind, line: int
) -> None:
    index = build_index(make_repo({path: text}))
    assert index.files[path].kind is kind
    problem = index.parsed[path].problem
    assert problem is not None and problem.message.startswith("invalid YAML")
    assert problem.line == line


def test_half_parsed_stream_keeps_the_documents_before_the_error(make_repo: Callable[..., Path]) -> None:
    text = "apiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Pod\nspec: [\n"
    parsed = build_index(make_repo({"k8s/two.yaml": text})).parsed["k8s/two.yaml"]
    assert parsed.file.kind is FileKind.K8S
    assert len(parsed.docs) == 1 and parsed.problem is not None
