"""GitLab script lines copied across jobs → a hidden job used through `!reference`, applied for real."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core.discovery import build_index
from core.dupes.canonical import shell_tokens
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import find_clones
from core.models import FileKind
from core.patching import apply_proposal
from core.scan import scan_index
from core.yamlnodes import compose_documents, resolve_references, to_python

SHARED = """\
    - apk add --no-cache curl jq
    - export KUBECONFIG=/tmp/kube
    - echo "$KUBE_CONFIG" > /tmp/kube
    - kubectl config use-context prod
"""
TAIL = """\
    - kubectl apply -f k8s/{name}.yaml
    - kubectl rollout status deploy/{name}
    - |
      echo multi
      echo line
    - echo all done
"""


def _job(name: str, *, key: str = "script", extra: str = "", variables: str = "") -> str:
    head = f"# deploys {name}\n"
    return (f"{head}deploy-{name}:\n  stage: deploy\n  image: alpine:3.19\n{variables}  {key}:\n"
            f"{SHARED}{extra}{TAIL.format(name=name)}")


def _pipeline(*jobs: str, head: str = "stages: [deploy]\n\n") -> str:
    return head + "\n".join(jobs)


def _script_clusters(root: Path, min_lines: int = 4) -> list[Any]:
    return [c for c in find_clones(build_index(root), min_lines=min_lines) if c.category == "gitlab-script"]


def _only_script_cluster(root: Path) -> tuple[Any, Any]:
    index = build_index(root)
    found = [c for c in find_clones(index, min_lines=4) if c.category == "gitlab-script"]
    assert len(found) == 1, [(c.category, c.occurrences) for c in found]
    return found[0], index


def _runs(root: Path, paths: list[str]) -> dict[str, dict[str, list[list[str]]]]:
    """Each job's scripts as GitLab runs them: references resolved across the pipeline's files, nested
    lists flattened, the job's variables substituted, each line as shell tokens."""
    docs = {p: compose_documents((root / p).read_text())[0][0] for p in paths}
    roots = list(docs.values())
    out: dict[str, dict[str, list[list[str]]]] = {}
    for doc in docs.values():
        for job, body in resolve_references(doc, roots).items():
            if job.startswith(".") or not isinstance(body, dict):
                continue
            variables = body.get("variables") or {}
            scripts: dict[str, list[list[str]]] = {}
            for key in ("before_script", "script", "after_script"):
                if key in body:
                    lines = []
                    for line in _flatten(body[key]):
                        for name, value in variables.items():
                            line = re.sub(rf"\$(?:{name}\b|\{{{name}\}})", str(value), line)
                        lines.append(shell_tokens(line))
                    scripts[key] = lines
            out[job] = scripts
    return out


def _flatten(value: Any) -> list[str]:
    if isinstance(value, list):
        return [line for item in value for line in _flatten(item)]
    assert isinstance(value, str), value
    return [value]


def test_exact_copies_become_one_hidden_job_with_variables(make_repo):
    root = make_repo({".gitlab-ci.yml": _pipeline(
        _job("api"), _job("web", variables='  variables:\n    REPLICAS: "2"\n'), _job("worker"))})
    before = _runs(root, [".gitlab-ci.yml"])
    cluster, index = _only_script_cluster(root)
    assert cluster.copies == 3 and not cluster.gaps
    proposal = propose_abstraction(cluster, index)
    assert "`.apk-add-script`" in proposal.title
    apply_proposal(root, proposal)
    text = (root / ".gitlab-ci.yml").read_text()
    assert text.count("- !reference [.apk-add-script, script]") == 3
    # the template comes before the first job, above the comment introducing that job
    assert text.index(".apk-add-script:\n  script:\n    - apk add") < text.index("# deploys api")
    assert "    - kubectl apply -f $K8S\n    - kubectl rollout status $DEPLOY\n" in text
    assert '    REPLICAS: "2"\n    K8S: "k8s/web.yaml"\n' in text  # added to the job's own block
    after = build_index(root)
    parsed = after.parsed[".gitlab-ci.yml"]
    assert parsed.problem is None and parsed.kind is FileKind.GITLAB_CI
    assert _runs(root, [".gitlab-ci.yml"]) == before
    assert to_python(parsed.docs[0])["deploy-web"]["variables"] == {
        "REPLICAS": "2", "K8S": "k8s/web.yaml", "DEPLOY": "deploy/web"}
    assert _script_clusters(root, min_lines=2) == []


def test_near_miss_copies_share_each_common_run_between_their_own_lines(make_repo):
    root = make_repo({".gitlab-ci.yml": _pipeline(
        _job("api", key="before_script"),
        _job("web", key="before_script", extra="    - echo only-web-a\n    - echo only-web-b\n"),
        _job("worker", key="before_script", extra="    - echo replaced\n"))})
    before = _runs(root, [".gitlab-ci.yml"])
    cluster, index = _only_script_cluster(root)
    assert cluster.gaps
    apply_proposal(root, propose_abstraction(cluster, index))
    text = (root / ".gitlab-ci.yml").read_text()
    assert ".apk-add-script:\n  before_script:\n" in text
    assert ".kubectl-apply-script:\n  before_script:\n" in text
    assert ("    - !reference [.apk-add-script, before_script]\n    - echo only-web-a\n"
            "    - echo only-web-b\n    - !reference [.kubectl-apply-script, before_script]\n") in text
    assert _runs(root, [".gitlab-ci.yml"]) == before
    assert _script_clusters(root, min_lines=2) == []


def test_copies_in_included_files_share_a_template_in_the_including_file(make_repo):
    root = make_repo({
        ".gitlab-ci.yml": "include:\n  - local: ci/api.yml\n  - local: /ci/web.yml\nstages: [deploy]\n",
        "ci/api.yml": _pipeline(_job("api"), _job("worker"), head=""),
        "ci/web.yml": _pipeline(_job("web"), head=""),
    })
    paths = [".gitlab-ci.yml", "ci/api.yml", "ci/web.yml"]
    before = _runs(root, paths)
    cluster, index = _only_script_cluster(root)
    assert len(cluster.files) == 2
    proposal = propose_abstraction(cluster, index)
    assert {e.path for e in proposal.edits} == set(paths)
    apply_proposal(root, proposal)
    root_text = (root / ".gitlab-ci.yml").read_text()
    assert root_text.startswith("include:\n  - local: ci/api.yml\n  - local: /ci/web.yml\n"
                                "stages: [deploy]\n\n.apk-add-script:\n  script:\n" + SHARED
                                + "    - kubectl apply -f $K8S\n")
    assert "- !reference" not in root_text
    assert _runs(root, paths) == before
    after = build_index(root)
    assert all(after.parsed[p].problem is None and after.parsed[p].kind is FileKind.GITLAB_CI for p in paths)
    assert _script_clusters(root, min_lines=2) == []


def test_copies_in_a_file_every_copy_includes_get_the_template_there(make_repo):
    common = _pipeline(_job("web"), head="")
    root = make_repo({
        ".gitlab-ci.yml": "include:\n  - local: ci/common.yml\n"
                          + _pipeline(_job("api"), _job("worker"), head=""),
        "ci/common.yml": common,
    })
    paths = [".gitlab-ci.yml", "ci/common.yml"]
    before = _runs(root, paths)
    cluster, index = _only_script_cluster(root)
    apply_proposal(root, propose_abstraction(cluster, index))
    assert ".apk-add-script:" in (root / "ci/common.yml").read_text()
    assert ".apk-add-script:" not in (root / ".gitlab-ci.yml").read_text()
    assert _runs(root, paths) == before


def _refusal(root: Path) -> str:
    cluster, index = _only_script_cluster(root)
    with pytest.raises(NotProposable) as caught:
        propose_abstraction(cluster, index)
    return str(caught.value)


def test_unlinked_files_are_refused(make_repo):
    root = make_repo({
        "svc-a/.gitlab-ci.yml": _pipeline(_job("api"), _job("worker")),
        "svc-b/.gitlab-ci.yml": _pipeline(_job("web")),
    })
    assert "no local `include:` links" in _refusal(root)


def test_a_job_setting_the_variable_differently_is_refused(make_repo):
    root = make_repo({".gitlab-ci.yml": _pipeline(
        _job("api"), _job("web", variables='  variables:\n    K8S: "elsewhere"\n'), _job("worker"))})
    assert "job deploy-web already sets K8S to 'elsewhere'" in _refusal(root)


@pytest.mark.parametrize("where", ["job", "default"])
def test_a_job_using_the_variable_name_already_is_refused(make_repo, where):
    jobs = [_job("api"), _job("web"), _job("worker")]
    if where == "job":
        text = _pipeline(*jobs) + "  after_script:\n    - echo $DEPLOY\n"
    else:  # `default:` runs in every job, so a new job variable would change it too
        text = _pipeline(*jobs, head="default:\n  before_script:\n    - echo ${DEPLOY}\n\n")
    root = make_repo({".gitlab-ci.yml": text})
    assert "already uses $DEPLOY" in _refusal(root)


def test_a_value_that_is_not_a_plain_word_is_refused(make_repo):
    jobs = [_job(n).replace("echo all done", f'echo "all done for {n}"') for n in ("api", "web", "worker")]
    root = make_repo({".gitlab-ci.yml": _pipeline(*jobs)})
    assert "not a plain shell word" in _refusal(root)


def test_gaps_leaving_pieces_too_small_to_save_lines_are_refused(make_repo):
    def job(name: str, extra: str) -> str:
        return (f"deploy-{name}:\n  script:\n    - apk add curl\n    - cd src\n{extra}    - make build\n"
                "    - make test\n    - make package\n    - make publish\n    - make clean\n")

    root = make_repo({".gitlab-ci.yml": _pipeline(job("api", ""), job("web", "    - echo web\n"))})
    assert "shared lines 1-2 save no lines" in _refusal(root)


def test_references_parse_resolve_and_scan_cleanly(make_repo):
    root = make_repo({
        ".gitlab-ci.yml": (
            "include:\n  - local: ci/more.yml\n"
            ".setup:\n  variables:\n    A: x\n"
            "  script:\n    - echo setup\n    - !reference [.inner, script]\n"
            ".inner:\n  script: [echo inner]\n"
            "build:\n  image: python:3.12-slim\n  variables: !reference [.setup, variables]\n"
            "  script:\n    - !reference [.setup, script]\n    - echo build\n"
            "  rules:\n    - !reference [.rules, rules]\n"),
        "ci/more.yml": ".rules:\n  rules:\n    - if: $CI_COMMIT_BRANCH\n"
                       "loop:\n  script:\n    - !reference [loop, script]\n"
                       "    - !reference [.missing, script]\n",
    })
    index = build_index(root)
    for path in (".gitlab-ci.yml", "ci/more.yml"):
        assert index.parsed[path].problem is None and index.parsed[path].kind is FileKind.GITLAB_CI
    assert [f for f in scan_index(index) if f.rule_id in ("DT-P001", "DT-X001")] == []
    roots = [index.parsed[p].docs[0] for p in (".gitlab-ci.yml", "ci/more.yml")]
    build = resolve_references(roots[0], roots)["build"]
    assert build["variables"] == {"A": "x"}
    assert build["script"] == [["echo setup", ["echo inner"]], "echo build"]
    assert build["rules"] == [[{"if": "$CI_COMMIT_BRANCH"}]]
    loop = resolve_references(roots[1], roots)["loop"]["script"]
    assert loop[1] == {"!reference": [".missing", "script"]}  # unresolved: kept visible, never a crash
    assert "!reference" in str(loop[0])  # a reference to itself stops at GitLab's nesting limit
    assert to_python(roots[0])["build"]["script"][0] == [".setup", "script"]  # to_python is unchanged


def test_assignment_words_folded_lines_and_extends_keep_their_meaning(make_repo):
    def job(i: int, name: str) -> str:
        return (f".base-{name}:\n  variables:\n    X: \"1\"\n"
                f"build-{name}:\n  extends: .base-{name}\n  script:\n"
                f"    - export PY_VERSION=3.1{i}  # pinned\n    - pip install 'tox==1.0'\n"
                f"    - >\n      docker build\n      --tag registry/{name}\n      .\n"
                "    - \"echo \\\"quoted\\\" done\"\n    - echo end\n    - echo end2\n    - echo end3\n")

    root = make_repo({".gitlab-ci.yml": "\n".join(job(i, n) for i, n in enumerate(("api", "web", "worker")))})
    before = _runs(root, [".gitlab-ci.yml"])
    cluster, index = _only_script_cluster(root)
    apply_proposal(root, propose_abstraction(cluster, index))
    text = (root / ".gitlab-ci.yml").read_text()
    assert "    - export PY_VERSION=$VERSION  # pinned\n" in text  # only the value is a variable
    assert "--tag registry/" not in text and "docker build --tag $TAG ." in text
    doc = to_python(compose_documents(text)[0][0])
    assert doc["build-web"] == {"extends": ".base-web",
                                "variables": {"VERSION": "3.11", "TAG": "registry/web"},
                                "script": [[".export-script", "script"]]}
    assert _runs(root, [".gitlab-ci.yml"]) == before
    assert _script_clusters(root, min_lines=2) == []


def test_referenced_lines_are_scanned_where_they_are_written(make_repo):
    """`!reference [.tpl, script]` names lines kept in .tpl: the finding is on .tpl's line, once."""
    from core.scan import scan_index

    text = (".tpl:\n  script:\n    - curl -fsSL https://example.com/x.sh | sh\n"
            "job:\n  image: alpine:3.19\n  script:\n    - !reference [.tpl, script]\n    - echo done\n")
    index = build_index(make_repo({".gitlab-ci.yml": text}))
    found = scan_index(index)
    assert not [f for f in found if f.rule_id.startswith(("DT-P", "DT-X"))]  # parsed, no rule crashed
    assert sorted(f.line for f in found if f.rule_id.startswith("DT-L")) == [3]
