"""Discovery outside git: a folder walk that honours nested `.gitignore` files like git does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.discovery import build_index
from core.ignore import IgnoreRules

Folder = Callable[[dict[str, str | bytes]], Path]


def test_root_gitignore_with_directory_pattern_and_negation(make_folder: Folder) -> None:
    root = make_folder(
        {
            ".gitignore": "# generated\n*.log\n!keep.log\nbuild/\n",
            "a.log": "x\n",
            "keep.log": "x\n",
            "build/Dockerfile": "FROM a:1\n",
            "src/build/Dockerfile": "FROM a:1\n",
            "Dockerfile": "FROM a:1\n",
        }
    )
    assert set(build_index(root).files) == {".gitignore", "keep.log", "Dockerfile"}


def test_nested_gitignore_applies_to_its_subtree_only(make_folder: Folder) -> None:
    root = make_folder(
        {
            "svc/.gitignore": "*.env\n/local/\n",
            "svc/prod.env": "A=1\n",
            "svc/local/x.sh": "echo\n",
            "svc/deep/local/y.sh": "echo\n",
            "other/prod.env": "A=1\n",
        }
    )
    assert set(build_index(root).files) == {"svc/.gitignore", "svc/deep/local/y.sh", "other/prod.env"}


def test_deeper_negation_reincludes_a_file(make_folder: Folder) -> None:
    root = make_folder({".gitignore": "*.yml\n", "ci/.gitignore": "!pipeline.yml\n",
                        "ci/pipeline.yml": "stages: [a]\n", "ci/other.yml": "a: 1\n"})
    assert set(build_index(root).files) == {".gitignore", "ci/.gitignore", "ci/pipeline.yml"}


def test_tool_folders_are_never_walked(make_folder: Folder) -> None:
    root = make_folder({"node_modules/x/Dockerfile": "FROM a:1\n", ".git/config": "[core]\n",
                        "Dockerfile": "FROM a:1\n"})
    assert set(build_index(root).files) == {"Dockerfile"}


def test_ignore_rules_semantics() -> None:
    rules = IgnoreRules()
    rules.add_file("", "/root-only.txt\ndocs/**/*.md\n**/tmp\n\\#literal\n")
    assert rules.ignored("root-only.txt", False)
    assert not rules.ignored("sub/root-only.txt", False)
    assert rules.ignored("docs/a/b/c.md", False)
    assert rules.ignored("docs/c.md", False)
    assert rules.ignored("x/y/tmp", True)
    assert rules.ignored("#literal", False)
    assert not rules.ignored("docs/c.txt", False)
