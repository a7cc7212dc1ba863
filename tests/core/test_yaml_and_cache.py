"""YAML helpers (merge keys, 1-based positions, `on:` as written) and the parse cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.discovery import build_index
from core.parsing import ParseCache
from core.yamlnodes import compose_documents, get, get_key, keys, node_position, scalar, to_python

COMPOSE = """\
x-base: &base
  restart: always
  environment:
    A: "1"
services:
  api:
    <<: *base
    image: api:1
    restart: "no"
  web:
    <<: [*base]
    image: web:1
"""


def test_merge_keys_are_resolved_and_explicit_keys_win() -> None:
    docs, problem = compose_documents(COMPOSE)
    assert problem is None
    services = get(docs[0], "services")
    api, web = get(services, "api"), get(services, "web")
    assert keys(api) == ["image", "restart", "environment"]
    assert scalar(get(api, "restart")) == "no"
    assert scalar(get(web, "restart")) == "always"
    assert to_python(web) == {"image": "web:1", "restart": "always", "environment": {"A": "1"}}
    # Merged content points at the anchor's lines: the place a user would edit.
    assert node_position(get(web, "restart")).line == 2


def test_positions_are_one_based() -> None:
    docs, _ = compose_documents("jobs:\n  build:\n    runs-on: ubuntu-latest\n")
    build = get(docs[0], "jobs")
    key = get_key(get(build, "build"), "runs-on")
    assert key is not None
    position = node_position(key)
    assert (position.line, position.column, position.end_line, position.end_column) == (3, 5, 3, 12)
    value = node_position(get(get(build, "build"), "runs-on"))
    assert (value.line, value.column) == (3, 14)


def test_block_scalar_ends_on_its_last_line() -> None:
    docs, _ = compose_documents("run: |\n  echo a\n  echo b\nnext: 1\n")
    position = node_position(get(docs[0], "run"))
    assert (position.line, position.last_line) == (1, 3)


def test_on_key_and_yaml11_booleans_stay_as_written() -> None:
    docs, _ = compose_documents("on:\n  push: {}\nenabled: yes\nflag: off\nn: 0x1f\nq: 'true'\nt: true\n")
    assert keys(docs[0])[0] == "on"
    assert to_python(docs[0]) == {"on": {"push": {}}, "enabled": "yes", "flag": "off", "n": 31, "q": "true",
                                  "t": True}


def test_cache_hit_on_unchanged_content_and_reparse_on_change(make_repo: Callable[..., Path]) -> None:
    root = make_repo(
        {
            "docker-compose.yml": COMPOSE,
            ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    steps: []\n",
            "Dockerfile": "FROM a:1\n",
        }
    )
    cache = ParseCache()
    first = build_index(root, cache=cache)
    assert cache.hits == 0
    second = build_index(root, cache=cache)
    assert all(second.parsed[p] is first.parsed[p] for p in first.parsed)
    assert cache.hits == 3
    (root / "Dockerfile").write_text("FROM a:2\n")
    third = build_index(root, cache=cache)
    assert third.parsed["Dockerfile"] is not first.parsed["Dockerfile"]
    assert third.parsed["Dockerfile"].dockerfile is not None
    assert third.parsed["Dockerfile"].dockerfile.stages[0].base == "a:2"
    assert third.parsed["docker-compose.yml"] is first.parsed["docker-compose.yml"]


def test_cached_yaml_is_reclassified_when_an_include_appears(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"ci/jobs.yml": "build:\n  script: [make]\n", ".gitlab-ci.yml": "stages: [build]\n"})
    cache = ParseCache()
    assert build_index(root, cache=cache).files["ci/jobs.yml"].kind.value == "yaml"
    (root / ".gitlab-ci.yml").write_text("include:\n  - local: ci/jobs.yml\n")
    index = build_index(root, cache=cache)
    assert index.files["ci/jobs.yml"].kind.value == "gitlab-ci"
    assert index.parsed["ci/jobs.yml"].file.kind.value == "gitlab-ci"
    assert keys(index.parsed["ci/jobs.yml"].docs[0]) == ["build"]


def test_cache_is_bounded() -> None:
    from core.models import FileKind, InfraFile
    from core.parsing import parse_text

    cache = ParseCache(capacity=2)
    for n in range(3):
        cache.put(parse_text(InfraFile(f"{n}.sh", FileKind.SHELL, 1, f"sha{n}"), "x"))
    assert cache.get(InfraFile("0.sh", FileKind.SHELL, 1, "sha0")) is None
    assert cache.get(InfraFile("2.sh", FileKind.SHELL, 1, "sha2")) is not None
    assert cache.get_content("sha0", "0.sh") is None and cache.get_content("sha1", "1.sh") is not None


def test_last_line_of_folded_scalars_counts_the_file_lines_not_the_folded_value() -> None:
    from core.yamlnodes import compose_documents, get, last_line

    text = "a:\n  run: >\n    one two\n    three four\n    five\n  next: 1\nc: >-\n  tail\n  end"
    docs, problem = compose_documents(text)
    assert problem is None and docs
    assert last_line(get(get(docs[0], "a"), "run")) == 4  # "five", though the value is one line
    assert last_line(get(docs[0], "c")) == 8  # at the end of the file, no line break
    literal, _ = compose_documents("run: |\n  a\n  b\nnext: 1\n")
    assert last_line(get(literal[0], "run")) == 2
