"""The bundled demo repository and the benchmark corpus generator, checked through real discovery."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import git
import pytest

from bench import gen_corpus
from core.demo import DemoError, bundled_tree, make_demo_repo
from core.discovery import build_index
from core.models import FileKind, GitStatus


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_demo_repo_is_a_committed_git_repo_with_every_kind(tmp_path: Path) -> None:
    package_tree = Path(str(bundled_tree()))
    before = _tree_digest(package_tree)
    root = make_demo_repo(tmp_path / "demo")
    assert _tree_digest(package_tree) == before  # the installed package is only read
    repo = git.Repo(root)
    assert repo.active_branch.name == "main" and len(list(repo.iter_commits())) == 1
    repo.close()
    index = build_index(root)
    kinds = {f.kind for f in index.files.values()}
    assert {FileKind.DOCKERFILE, FileKind.COMPOSE, FileKind.GHA_WORKFLOW, FileKind.GHA_ACTION,
            FileKind.GITLAB_CI, FileKind.K8S, FileKind.ENV, FileKind.SHELL} <= kinds
    assert index.files[".gitlab-ci.yml"].kind is FileKind.GITLAB_CI
    assert index.files["ci/gitlab/deploy.yml"].kind is FileKind.GITLAB_CI  # a local include
    assert index.files["deploy/rollback"].kind is FileKind.SHELL  # by shebang
    assert not any("dot-" in p for p in index.files)
    assert {".env", ".github/workflows/pr-preview.yml", "services/worker/.dockerignore"} <= set(index.files)
    assert all(index.repo.status(p) is GitStatus.CLEAN for p in index.files)
    assert all(p.problem is None for p in index.parsed.values()), "the demo's files must all parse"
    assert os.access(root / "deploy/deploy-api.sh", os.X_OK)
    assert len(index.of_kind(FileKind.GHA_WORKFLOW)) >= 3 and len(index.of_kind(FileKind.DOCKERFILE)) == 3


def test_demo_plants_detector_shaped_fake_secrets(tmp_path: Path) -> None:
    env = (make_demo_repo(tmp_path / "demo") / ".env").read_text()
    aws = re.findall(r"\bAKIA[A-Z0-9]{16}\b", env)
    assert aws and aws[0] != "AKIAIOSFODNN7EXAMPLE"  # not AWS's documented example either
    assert re.search(r"\bghp_[A-Za-z0-9]{36}\b", env)
    assert re.search(r"hooks\.slack\.com/services/[A-Za-z0-9+/]{43,56}", env)


def test_demo_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(DemoError, match="not an empty folder"):
        make_demo_repo(tmp_path / "busy")


def test_demo_defaults_to_a_fresh_temp_folder() -> None:
    first, second = make_demo_repo(), make_demo_repo()
    try:
        assert first != second and first.name.startswith("devops-tui-demo-")
        assert (first / ".github" / "workflows").is_dir()
    finally:
        import shutil

        shutil.rmtree(first)
        shutil.rmtree(second)


def test_corpus_is_deterministic_and_its_manifest_matches_discovery(tmp_path: Path) -> None:
    assert gen_corpus.main([str(tmp_path / "a"), "--services", "40", "--seed", "7"]) == 0
    assert gen_corpus.main([str(tmp_path / "b"), "--services", "40", "--seed", "7", "--no-git"]) == 0
    a_files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                     if p.is_file() and ".git" not in p.parts)
    b_files = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert a_files == b_files
    assert all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in a_files)

    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    for root in (tmp_path / "a", tmp_path / "b"):  # git mode and plain-folder mode
        index = build_index(root)
        assert {p: f.kind.value for p, f in index.files.items()} == manifest["files"]
    assert manifest["file_count"] == len(manifest["files"]) > 400


def test_corpus_planted_problems_and_groups_point_at_real_lines(tmp_path: Path) -> None:
    root = tmp_path / "c"
    assert gen_corpus.main([str(root), "--services", "60", "--seed", "3", "--no-git"]) == 0
    manifest = json.loads((root / "manifest.json").read_text())
    markers = {"image-latest": "latest", "secret": "", "runs-as-root": "FROM",
               "privileged": "privileged: true", "unpinned-action": "@main", "curl-pipe-shell": "| sh",
               "plaintext-password": "POSTGRES_PASSWORD", "missing-permissions": "name:"}
    assert set(manifest["problem_counts"]) <= set(markers)
    assert {"image-latest", "secret", "runs-as-root", "privileged"} <= set(manifest["problem_counts"])
    for problem in manifest["problems"]:
        line = (root / problem["path"]).read_text().splitlines()[problem["line"] - 1]
        assert markers[problem["type"]] in line, problem
        if problem["type"] == "secret":
            assert re.search(r"AKIA[A-Z2-7]{16}|ghp_[A-Za-z0-9]{36}|hooks\.slack\.com/services/", line)
    groups = {g["id"]: g for g in manifest["groups"]}
    expected = {"gha-python-ci-steps", "shell-log-function", "gitlab-build-job", "k8s-deployment-template"}
    assert expected <= set(groups)
    for group in groups.values():
        assert len(group["members"]) >= 2
        exact = [m for m in group["members"] if m["variant"] == "exact"]
        texts = {
            "\n".join((root / m["path"]).read_text().splitlines()[m["start_line"] - 1 : m["end_line"]])
            for m in exact
        }
        assert len(texts) <= 1, f"{group['id']}: 'exact' copies differ"


def test_corpus_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("busy")
    assert gen_corpus.main([str(tmp_path), "--services", "2"]) == 2
