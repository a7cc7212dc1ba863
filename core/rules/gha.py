"""GitHub Actions security rules (DT-G…), for workflows and composite actions.

Contract: every rule reads the shared `Workflow` model (`gha_model.workflow_of`, built once per file)
and yields hits that point at the offending token — the `${{ … }}` inside a `run:` block, the ref after
`@`, the key of a job — never just at a line. Peer equivalents are zizmor's audits (offline ones),
checkov's CKV_GHA checks and KICS queries. Cases that differ in who is exposed (attacker text vs.
dispatcher input, third-party vs. GitHub-owned action) stay separate rules although a hit could carry its
own severity: their IDs are in users' baselines and configs, and their quick fixes differ in safety.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.models import FileKind, Severity
from core.parsing import ParsedFile
from core.redact import redact
from core.rules.base import Hit, ScanContext, rule
from core.rules.containers import image_pin_problem
from core.rules.gha_model import (
    Step,
    Workflow,
    env_nodes,
    env_refs,
    expressions,
    secret_context,
    untrusted_context,
    workflow_of,
)
from core.yamlnodes import Node, ScalarNode, get, get_key, items, node_position, scalar

GHA = (FileKind.GHA_WORKFLOW, FileKind.GHA_ACTION)
WORKFLOWS = (FileKind.GHA_WORKFLOW,)

_SHA = re.compile(r"[0-9a-fA-F]{40}")
_GITHUB_OWNERS = frozenset({"actions", "github"})
_BRANCH_REFS = frozenset({"main", "master", "develop", "dev", "trunk", "latest", "head"})
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_]\w*)")


def _model(parsed: ParsedFile) -> Workflow | None:
    return workflow_of(parsed) if parsed.docs else None


def _step_line(step: Step) -> str:
    return str(step.node.start_mark.line + 1)


def _script_sinks(wf: Workflow) -> Iterator[tuple[Step, ScalarNode, str]]:
    """Text that is executed as code: `run:` and actions/github-script's `script:`."""
    for step in wf.steps:
        if step.run is not None:
            yield step, step.run, "run"
        elif step.uses_name == "actions/github-script":
            script = step.with_value("script")
            if script is not None:
                yield step, script, "script"


def _env_name(context: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", context) if p and p not in ("github", "event")]
    return "_".join(parts[-2:]).upper() or "VALUE"


def _sink_fix(step: Step, sink: str, inner: str, env_name: str) -> tuple[tuple[str, str], ...]:
    return (
        ("sink", sink),
        ("expression", "${{ " + inner + " }}"),
        ("env_name", env_name),
        ("step_line", _step_line(step)),
    )


@rule(
    "DT-G001",
    "Attacker-controlled text expanded into a script",
    Severity.HIGH,
    GHA,
    help="""
`${{ … }}` is substituted into the script text before the shell (or github-script's JavaScript) sees
it, so an issue title, PR body, commit message or branch name containing `"; curl … | sh; "` runs as
code with the workflow's token and secrets. Pass the value through `env:` (for example
`env: TITLE: ${{ github.event.issue.title }}`) and use it as `"$TITLE"` (or `process.env.TITLE`).
""",
    aliases=("zizmor:template-injection", "checkov:CKV_GHA_2", "kics:Run Block Injection",
             "kics:Script Block Injection"),
)
def template_injection(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for step, node, sink in _script_sinks(wf):
        for expr in expressions(node.value):
            context = untrusted_context(expr.inner)
            via = next((name for name in env_refs(expr.inner) if name in step.tainted_env), None)
            if context is None and via is None:
                continue
            if context is None and via is not None:
                context = step.tainted_env[via]
                message = (f"`env.{via}` holds attacker-controlled `{context}` and is expanded into this "
                           f"{sink} before it runs; read it as \"${via}\" instead")
                fix = _sink_fix(step, sink, expr.inner, via)
            else:
                message = (f"attacker-controlled `{context}` is expanded into this {sink} before it runs; "
                           "pass it through env: and quote the variable")
                fix = _sink_fix(step, sink, expr.inner, _env_name(str(context)))
            yield Hit(wf.source.span(node, expr.start, expr.end), message, fix_data=fix)


@rule(
    "DT-G002",
    "Workflow or action input expanded into a script",
    Severity.MEDIUM,
    GHA,
    help="""
Inputs of `workflow_dispatch`, `workflow_call` and composite actions are text chosen by whoever triggers
or calls the workflow; `${{ inputs.x }}` inside `run:` pastes that text into the script, so a value like
`x; rm -rf ~` becomes code. Pass the input through `env:` and use `"$VAR"`, or declare it with a
non-text type (boolean, number, choice) where that fits.
""",
    aliases=("zizmor:template-injection", "kics:Run Block Injection"),
)
def input_injection(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for step, node, sink in _script_sinks(wf):
        for expr in expressions(node.value):
            if untrusted_context(expr.inner):
                continue  # DT-G001 reports it
            context = wf.input_context(expr.inner)
            if context is None:
                continue
            who = "the action's caller" if wf.is_action else "whoever dispatches or calls the workflow"
            message = (f"`{context}` is text chosen by {who} and is expanded into this {sink} before it "
                       "runs; pass it through env: and quote the variable")
            name = context.rsplit(".", 1)[-1].replace("-", "_").upper()
            yield Hit(wf.source.span(node, expr.start, expr.end), message,
                      fix_data=_sink_fix(step, sink, expr.inner, name))


def _uses_nodes(wf: Workflow) -> Iterator[ScalarNode]:
    for step in wf.steps:
        if step.uses is not None:
            yield step.uses
    for job in wf.jobs:
        uses = job.get("uses")  # a reusable workflow
        if isinstance(uses, ScalarNode):
            yield uses


def _unpinned(parsed: ParsedFile, github_owned: bool) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for node in _uses_nodes(wf):
        text = str(node.value).strip()
        if not text or text.startswith(("./", "../", "docker://")) or "${{" in text:
            continue
        name, at, ref = text.partition("@")
        if at and _SHA.fullmatch(ref):
            continue
        owner = name.split("/", 1)[0].lower()
        if (owner in _GITHUB_OWNERS) != github_owned:
            continue
        offset = str(node.value).find("@")
        if not at:
            position = node_position(node)
            message = f"`{name}` has no ref at all; pin it to a full commit SHA"
        else:
            position = wf.source.span(node, offset + 1, len(str(node.value).rstrip()))
            what = "branch" if ref.lower() in _BRANCH_REFS else "tag"
            message = (f"`{name}` is pinned to the {what} `{ref}`, which its owner can move to other code; "
                       "pin the full 40-character commit SHA (keep the version in a comment)")
        yield Hit(position, message, fix_data=(("action", name), ("ref", ref)))


@rule(
    "DT-G003",
    "Third-party action not pinned to a commit SHA",
    Severity.MEDIUM,
    GHA,
    help="""
A tag or branch of a third-party action can be moved by its owner, or by whoever compromises the
owner's account, and your next run executes the new code with your secrets (tj-actions/changed-files,
2025). Only a full 40-character commit SHA is immutable. Pin it and keep the version in a comment
(`uses: owner/action@<sha> # v4.2.0`); Dependabot and Renovate update such pins.
""",
    aliases=("zizmor:unpinned-uses", "checkov:CKV_GHA_8", "kics:Unpinned Actions Full Length Commit SHA"),
)
def unpinned_third_party(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    yield from _unpinned(parsed, github_owned=False)


@rule(
    "DT-G004",
    "GitHub-owned action not pinned to a commit SHA",
    Severity.LOW,
    GHA,
    help="""
Actions under `actions/` and `github/` are maintained by GitHub, so a moving tag is a smaller risk than
for third-party code, but it is still mutable: a compromised release or a branch ref (`@main`) changes
what runs without a diff in your repository. Pin the full commit SHA with the version in a comment.
""",
    aliases=("zizmor:unpinned-uses", "checkov:CKV_GHA_8", "kics:Unpinned Actions Full Length Commit SHA"),
)
def unpinned_github_owned(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    yield from _unpinned(parsed, github_owned=True)


_PR_HEAD = re.compile(
    r"github\.event\.pull_request\.(?:head\.(?:sha|ref|repo\.full_name)|merge_commit_sha|number)"
    r"|github\.head_ref|github\.event\.number"
    r"|github\.event\.workflow_run\.(?:head_sha|head_branch|head_repository\.full_name)"
    r"|refs/pull/"
)
_RUN_PR_CHECKOUT = re.compile(
    r"\bgh\s+pr\s+checkout\b|\bgit\s+(?:fetch|checkout|switch|pull)\b[^\n;&|]*(?:\bpull/|"
    + _PR_HEAD.pattern + ")"
)


@rule(
    "DT-G005",
    "Privileged workflow checks out pull request code",
    Severity.CRITICAL,
    WORKFLOWS,
    help="""
`pull_request_target` and `workflow_run` run with the base repository's secrets and a write token.
Checking out the pull request's head there and then building or testing it runs the fork author's code
with those privileges (a "pwn request"). Use `pull_request` for untrusted code, or split the work: an
unprivileged workflow builds, and the privileged one only consumes its artifacts as data.
""",
    aliases=("zizmor:dangerous-triggers",),
)
def pwn_request(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None or not wf.privileged:
        return
    trigger = next(t for t in ("pull_request_target", "workflow_run") if t in wf.triggers)
    for step in wf.steps:
        if step.uses_name == "actions/checkout":
            for key in ("ref", "repository"):
                node = step.with_value(key)
                match = _PR_HEAD.search(str(node.value)) if node is not None else None
                if node is not None and match:
                    yield Hit(wf.source.span(node, 0, len(str(node.value))),
                              f"checks out `{match.group(0)}` in a {trigger} workflow, which runs with "
                              "secrets and a write token",
                              fix_data=(("step_line", _step_line(step)), ("key", key)))
                    break
        elif step.run is not None:
            for match in _RUN_PR_CHECKOUT.finditer(step.run.value):
                yield Hit(wf.source.span(step.run, match.start(), match.end()),
                          f"fetches pull request code in a {trigger} workflow, which runs with secrets "
                          "and a write token")


@rule(
    "DT-G006",
    "Job runs with default token permissions",
    Severity.MEDIUM,
    WORKFLOWS,
    help="""
Without a `permissions:` block the job's GITHUB_TOKEN gets the repository default, which is read-write
on every scope in many organisations, so any compromised step can push code or publish releases. Add
`permissions: contents: read` at the top of the workflow and grant more only on the jobs that need it.
""",
    aliases=("zizmor:excessive-permissions",),
)
def missing_permissions(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None or get(wf.doc, "permissions") is not None:
        return
    jobs_key = get_key(wf.doc, "jobs")
    for job in wf.jobs:
        if job.get("permissions") is None:
            yield Hit(node_position(job.key),
                      f"job `{job.id}` sets no permissions and the workflow has none, so its token gets "
                      "the repository default (often write access to everything)",
                      anchor=f"job:{job.id}",
                      fix_data=(("jobs_line", str(jobs_key.start_mark.line + 1) if jobs_key else ""),))


@rule(
    "DT-G007",
    "Token permissions set to write-all",
    Severity.HIGH,
    WORKFLOWS,
    help="""
`permissions: write-all` hands every step write access to code, packages, releases, deployments and
more; one compromised action or injected command can then tamper with the repository. List only the
scopes the job needs, e.g. `permissions: {contents: read, pull-requests: write}`.
""",
    aliases=("zizmor:excessive-permissions", "checkov:CKV2_GHA_1"),
)
def write_all(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    places: list[tuple[str, Node | None]] = [("the workflow", get(wf.doc, "permissions"))]
    places += [(f"job `{j.id}`", j.get("permissions")) for j in wf.jobs]
    for where, node in places:
        if isinstance(node, ScalarNode) and node.value.strip().lower() == "write-all":
            yield Hit(node_position(node), f"{where} grants write-all token permissions",
                      anchor=f"write-all:{where}")


@rule(
    "DT-G008",
    "Write permission granted to every job",
    Severity.MEDIUM,
    WORKFLOWS,
    help="""
A `write` scope in the workflow-level `permissions:` is inherited by every job, including the ones that
only build or test and run third-party code. Keep the workflow level read-only and grant the write scope
on the one job that publishes, comments or deploys.
""",
    aliases=("zizmor:excessive-permissions",),
)
def workflow_level_write(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None or len(wf.jobs) < 2:
        return  # with one job, workflow level and job level are the same grant
    for key, value in items(get(wf.doc, "permissions")):
        if (scalar(value) or "").strip().lower() == "write":
            yield Hit(node_position(key),
                      f"`{key.value}: write` at workflow level is inherited by all {len(wf.jobs)} jobs; "
                      "grant it on the job that needs it",
                      anchor=f"perm:{key.value}")


@rule(
    "DT-G009",
    "Checkout persists the token in .git/config",
    Severity.MEDIUM,
    GHA,
    help="""
`actions/checkout` writes the job's token into `.git/config` unless told otherwise, where any later step
(or an uploaded artifact that includes the workspace) can read it. Add `persist-credentials: false` to
the checkout's `with:`, and authenticate explicitly in the one step that pushes.
""",
    aliases=("zizmor:artipacked",),
)
def artipacked(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for step in wf.steps:
        if step.uses_name != "actions/checkout" or step.uses is None:
            continue
        persist = step.with_value("persist-credentials")
        if persist is not None and (persist.value.strip().lower() == "false" or "${{" in persist.value):
            continue
        with_key = get_key(step.node, "with")
        uses_key = get_key(step.node, "uses")
        target = persist if persist is not None else step.uses
        yield Hit(node_position(target),
                  "checkout leaves the token in .git/config for every later step; set "
                  "persist-credentials: false",
                  fix_data=(("step_line", _step_line(step)),
                            ("key_column", str(uses_key.start_mark.column + 1) if uses_key else ""),
                            ("with_line", str(with_key.start_mark.line + 1) if with_key else "")))


_ENV_FILE_WRITE = re.compile(r"(?:>>?|\btee\b[^\n|;]*?|-(?:File)?Path\s|Out-File\s[^\n]*?)\s*[\"']?"
                             r"(\$\{?GITHUB_(?:ENV|PATH)\b\}?|\$env:GITHUB_(?:ENV|PATH)\b)",
                             re.IGNORECASE)


@rule(
    "DT-G010",
    "Untrusted data written to GITHUB_ENV or GITHUB_PATH",
    Severity.HIGH,
    GHA,
    help="""
Lines appended to `$GITHUB_ENV` become environment variables of every later step, and `$GITHUB_PATH`
decides which binaries they run. If the written value comes from attacker-controlled text (a PR title,
a branch name, an artifact in a `pull_request_target`/`workflow_run` workflow), the attacker can set
`LD_PRELOAD`, `BASH_ENV` or `NODE_OPTIONS` and take over later steps. Use step outputs for such data,
or validate it strictly before writing.
""",
    aliases=("zizmor:github-env",),
)
def github_env(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for step in wf.steps:
        run = step.run
        if run is None or "GITHUB_" not in run.value:
            continue
        writes = list(_ENV_FILE_WRITE.finditer(run.value))
        if not writes:
            continue
        reason = _taint_in_run(wf, step, run.value)
        if reason is None and wf.privileged:
            trigger = next(t for t in ("pull_request_target", "workflow_run") if t in wf.triggers)
            reason = f"this {trigger} workflow handles fork-controlled data"
        if reason is None:
            continue
        for match in writes:
            target = match.group(1).strip("${}").replace("env:", "")
            yield Hit(wf.source.span(run, match.start(1), match.end(1)),
                      f"writes to {target} while {reason}; later steps would run with attacker-chosen "
                      "environment", fix_data=(("step_line", _step_line(step)),))


def _taint_in_run(wf: Workflow, step: Step, text: str) -> str | None:
    for expr in expressions(text):
        context = untrusted_context(expr.inner) or wf.input_context(expr.inner)
        if context:
            return f"the script expands `{context}`"
    for match in _SHELL_VAR.finditer(text):
        name = match.group(1)
        if name in step.tainted_env:
            return f"`${name}` holds `{step.tainted_env[name]}`"
    return None


_UNSECURE_IN_RUN = re.compile(r"ACTIONS_ALLOW_UNSECURE_COMMANDS\s*=\s*[\"']?true", re.IGNORECASE)


@rule(
    "DT-G011",
    "Insecure workflow commands enabled",
    Severity.HIGH,
    GHA,
    help="""
`ACTIONS_ALLOW_UNSECURE_COMMANDS=true` re-enables the deprecated `::set-env` and `::add-path` log
commands, so anything that prints attacker-controlled text to the log (a test name, a commit message)
can set environment variables and PATH for later steps. Remove it and write to `$GITHUB_ENV` /
`$GITHUB_PATH` from trusted values instead.
""",
    aliases=("zizmor:insecure-commands", "checkov:CKV_GHA_1", "kics:Unsecured Commands"),
)
def insecure_commands(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None or "ACTIONS_ALLOW_UNSECURE_COMMANDS" not in parsed.text.upper():
        return
    for env in env_nodes(wf):
        for key, value in items(env):
            if key.value.upper() == "ACTIONS_ALLOW_UNSECURE_COMMANDS" and \
                    (scalar(value) or "").strip().strip("'\"").lower() == "true":
                yield Hit(node_position(key), "ACTIONS_ALLOW_UNSECURE_COMMANDS is true: ::set-env and "
                          "::add-path log commands are accepted again")
    for step in wf.steps:
        if step.run is not None:
            for match in _UNSECURE_IN_RUN.finditer(step.run.value):
                yield Hit(wf.source.span(step.run, match.start(), match.end()),
                          "the script enables ACTIONS_ALLOW_UNSECURE_COMMANDS for later steps")


@rule(
    "DT-G012",
    "All secrets passed to a called workflow",
    Severity.MEDIUM,
    WORKFLOWS,
    help="""
`secrets: inherit` gives the called reusable workflow every secret of the repository and organisation,
not just the ones it needs; if that workflow (or an action it uses) is compromised or changes, all of
them leak. Pass the secrets it needs explicitly under `secrets:`.
""",
    aliases=("zizmor:secrets-inherit",),
)
def secrets_inherit(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for job in wf.jobs:
        node = job.get("secrets")
        if isinstance(node, ScalarNode) and node.value.strip() == "inherit":
            called = scalar(job.get("uses")) or "the called workflow"
            yield Hit(node_position(node), f"job `{job.id}` passes every secret to {called}",
                      anchor=f"inherit:{job.id}")


def _containers(wf: Workflow) -> Iterator[tuple[str, Node]]:
    """(description, container-or-service mapping/string) for every job."""
    for job in wf.jobs:
        container = job.get("container")
        if container is not None:
            yield f"job `{job.id}` container", container
        for key, service in items(job.get("services")):
            yield f"service `{key.value}` of job `{job.id}`", service


@rule(
    "DT-G013",
    "Container registry password written in the workflow",
    Severity.HIGH,
    WORKFLOWS,
    help="""
A literal `credentials.password` for a job container or service is readable by everyone who can read
the repository and stays in its history forever. Store it as an encrypted secret and reference it as
`password: ${{ secrets.REGISTRY_PASSWORD }}`, then rotate the exposed password.
""",
    aliases=("zizmor:hardcoded-container-credentials",),
    tags=("security", "secret"),
)
def hardcoded_container_credentials(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for where, node in _containers(wf):
        password = get(get(node, "credentials"), "password")
        value = (scalar(password) or "").strip()
        if password is not None and value and "${{" not in value:
            yield Hit(node_position(password), f"{where} has a literal registry password {redact(value)}",
                      anchor=f"password:{where}")


_CACHE_ACTIONS = frozenset({"actions/cache", "actions/cache/restore", "swatinem/rust-cache"})
_PUBLISH_ACTIONS = frozenset({
    "pypa/gh-action-pypi-publish", "softprops/action-gh-release", "goreleaser/goreleaser-action",
    "ncipollo/release-action", "js-devtools/npm-publish", "actions/create-release",
    "docker/build-push-action",
})
_PUBLISH_RUN = re.compile(
    r"\b(?:npm|yarn|pnpm)\s+publish\b|\btwine\s+upload\b|\bcargo\s+publish\b|\bgem\s+push\b"
    r"|\b(?:poetry|uv|hatch|flit)\s+publish\b|\bgoreleaser\b|\bdocker\s+push\b|\bgh\s+release\s+create\b"
)
_OLD_SETUP_GO = re.compile(r"@v[1-3](?:\.|$)")


def _cache_use(step: Step) -> tuple[Node, str] | None:
    """The node that turns on a cache restore in this step, and what it is."""
    name = step.uses_name
    if step.uses is None:
        return None
    if name in _CACHE_ACTIONS:
        return step.uses, name
    if name == "astral-sh/setup-uv":
        enable = step.with_value("enable-cache")
        return (enable, "setup-uv cache") if enable is not None and enable.value.lower() == "true" else None
    if name.startswith("actions/setup-"):
        cache = step.with_value("cache")
        if cache is not None:
            value = cache.value.strip().lower()
            return None if value in ("", "false") else (cache, f"{name} cache")
        if name == "actions/setup-go" and not _OLD_SETUP_GO.search(str(step.uses.value)):
            return step.uses, "actions/setup-go (caches by default since v4)"
    return None


def _publishes(steps: tuple[Step, ...]) -> bool:
    for step in steps:
        if step.uses_name in _PUBLISH_ACTIONS:
            push = step.with_value("push")
            if step.uses_name != "docker/build-push-action" or (push is not None and push.value == "true"):
                return True
        if step.run is not None and _PUBLISH_RUN.search(step.run.value):
            return True
    return False


@rule(
    "DT-G014",
    "Cache restored in a release or publishing job",
    Severity.MEDIUM,
    WORKFLOWS,
    help="""
GitHub caches are shared across workflows of a repository, and a less trusted workflow (one that runs
pull request code on the default branch, say) can write an entry that a release job later restores.
The poisoned dependencies then end up in the artifact you publish. Do not restore caches in jobs that
build releases or publish packages and images; rebuild from locked dependencies instead.
""",
    aliases=("zizmor:cache-poisoning",),
)
def cache_poisoning(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    release = "release" in wf.triggers or get(wf.triggers.get("push"), "tags") is not None
    for job in wf.jobs:
        why = "release workflow" if release else ("publishing job" if _publishes(job.steps) else "")
        if not why:
            continue
        for step in job.steps:
            found = _cache_use(step)
            if found is not None:
                node, what = found
                yield Hit(node_position(node), f"{what} is restored in this {why}; a poisoned cache entry "
                          "would ship in the release", anchor=f"cache:{job.id}:{what}")


@rule(
    "DT-G015",
    "Container image not pinned",
    Severity.MEDIUM,
    GHA,
    help="""
A job container, service or `docker://` action without a tag, or with `latest`, runs whatever image was
pushed last, so builds change without a commit and a compromised image is picked up at once. Use an
explicit version tag, and for `docker://` actions a digest (`docker://alpine@sha256:…`).
""",
    aliases=("zizmor:unpinned-images",),
)
def unpinned_images(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for where, node in _containers(wf):
        image = node if isinstance(node, ScalarNode) else get(node, "image")
        problem = image_pin_problem(scalar(image) or "")
        if image is not None and problem:
            yield Hit(node_position(image), f"{where} image `{scalar(image)}` {problem}",
                      anchor=f"image:{where}")
    docker_uses = [s.uses for s in wf.steps if s.uses is not None]
    runs_image = get(get(wf.doc, "runs"), "image") if wf.is_action else None
    if isinstance(runs_image, ScalarNode):
        docker_uses.append(runs_image)
    for node in docker_uses:
        text = str(node.value).strip()
        if text.startswith("docker://") and "@sha256:" not in text and "${{" not in text:
            yield Hit(node_position(node), f"`{text}` is not pinned by digest; the tag can be re-pushed")


_NET_TOOL = re.compile(r"(?:^|[\s;|&(`])(curl|wget|nc|ncat|netcat|socat)\b|/dev/(?:tcp|udp)/")
_URL_HOST = re.compile(r"\bhttps?://([A-Za-z0-9.-]+)")
_GITHUB_HOST = re.compile(r"(?:^|\.)(?:github\.com|githubusercontent\.com|ghcr\.io|githubapp\.com)$",
                          re.IGNORECASE)
_COMMAND_CHUNK = re.compile(r"(?:\\\n|[^\n;&|]|\|(?!\|)|&(?!&))+")


@rule(
    "DT-G016",
    "Secret sent to a non-GitHub host",
    Severity.MEDIUM,
    GHA,
    help="""
A `curl`, `wget` or `nc` command that carries a secret to a host outside GitHub is the shape of
credential exfiltration, whether planted by a compromised dependency or added by mistake. Make sure the
host is one you own and expect; prefer the service's official action, OIDC federation instead of
long-lived tokens, and never send `GITHUB_TOKEN` off GitHub.
""",
    aliases=("checkov:CKV_GHA_3",),
)
def secret_exfiltration(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    wf = _model(parsed)
    if wf is None:
        return
    for step in wf.steps:
        run = step.run
        if run is None or not _NET_TOOL.search(run.value):
            continue
        for chunk in _COMMAND_CHUNK.finditer(run.value):
            text = chunk.group(0)
            tool = _NET_TOOL.search(text)
            if tool is None:
                continue
            hosts = [h for h in _URL_HOST.findall(text) if not _GITHUB_HOST.search(h)]
            raw_socket = tool.group(1) not in ("curl", "wget")
            if not hosts and not raw_socket:
                continue
            for start, end, name in _secret_refs(step, text):
                dest = hosts[0] if hosts else "a raw socket"
                yield Hit(wf.source.span(run, chunk.start() + start, chunk.start() + end),
                          f"`{name}` is sent to {dest} by {tool.group(1) or 'a /dev/tcp redirect'}",
                          anchor=f"exfil:{name}:{dest}")


def _secret_refs(step: Step, text: str) -> Iterator[tuple[int, int, str]]:
    for expr in expressions(text):
        context = secret_context(expr.inner)
        if context:
            yield expr.start, expr.end, context
    if step.secret_env:
        for match in _SHELL_VAR.finditer(text):
            if match.group(1) in step.secret_env:
                yield match.start(), match.end(), f"${match.group(1)}"

