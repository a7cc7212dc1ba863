"""Generate a large, realistic monorepo with planted problems and planted copy-paste, deterministically.

`python -m bench.gen_corpus OUT --services 1000 [--seed N] [--no-git]` writes about ten infrastructure
files per service (Dockerfile, compose file, CI and deploy workflows, sometimes a nightly workflow and a
composite action, a Kubernetes Deployment and Service, `.env.example`, a deploy script), a few source
files, per-team GitLab pipelines included from the root `.gitlab-ci.yml`, and `manifest.json`: every
file's expected kind, every planted problem (type, path, line) and every planted copy-paste group
(members with line ranges and how each copy varies). Same seed, same bytes: the random generator is
seeded, iteration orders are fixed and the git commit has fixed dates and author. Every credential is
random and fake; the formats merely match the detectors.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TEAMS = ("payments", "search", "catalog", "identity", "growth", "platform", "data", "mobile", "ops",
         "billing", "orders", "media", "risk", "support", "ads", "maps", "mail", "chat", "infra", "lab")
NOUNS = ("ledger", "gateway", "indexer", "profile", "notifier", "router", "scheduler", "exporter",
         "importer", "resizer", "tracker", "reporter", "auth", "cart", "quota", "feed", "sync", "audit")
LANGS = (("python", 45), ("node", 35), ("go", 20))
FIXED_DATE = "2024-01-01T00:00:00+00:00"
_ALNUM = string.ascii_letters + string.digits


@dataclass
class Lines:
    """A file being written line by line, so planted things know their line numbers."""

    lines: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> int:
        """Append lines; return the 1-based number of the first one."""
        first = len(self.lines) + 1
        self.lines.extend(lines)
        return first

    @property
    def last(self) -> int:
        return len(self.lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass
class Corpus:
    """Everything generated so far: file texts, expected kinds, problems and copy-paste groups."""

    files: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    problems: list[dict[str, object]] = field(default_factory=list)
    groups: dict[str, dict[str, object]] = field(default_factory=dict)

    def put(self, path: str, content: Lines | str, kind: str) -> None:
        self.files[path] = content.text() if isinstance(content, Lines) else content
        self.kinds[path] = kind

    def problem(self, kind: str, path: str, line: int, detail: str = "") -> None:
        entry: dict[str, object] = {"type": kind, "path": path, "line": line}
        if detail:
            entry["detail"] = detail
        self.problems.append(entry)

    def member(self, group: str, file_kind: str, path: str, start: int, end: int, variant: str) -> None:
        entry = self.groups.setdefault(group, {"id": group, "kind": file_kind, "members": []})
        members = entry["members"]
        assert isinstance(members, list)
        members.append({"path": path, "start_line": start, "end_line": end, "variant": variant})


# ---------------------------------------------------------------- fake secrets (random, detector-shaped)

def fake_aws_key(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))


def fake_github_token(rng: random.Random) -> str:
    return "ghp_" + "".join(rng.choice(_ALNUM) for _ in range(36))


def fake_slack_webhook(rng: random.Random) -> str:
    def part(n: int) -> str:
        return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))

    tail = "".join(rng.choice(_ALNUM) for _ in range(24))
    return f"https://hooks.slack.com/services/T{part(8)}/B{part(8)}/{tail}"


SECRET_MAKERS = (("aws-access-key", fake_aws_key), ("github-token", fake_github_token),
                 ("slack-webhook", fake_slack_webhook))


def pick_secret(rng: random.Random) -> tuple[str, str]:
    name, maker = rng.choice(SECRET_MAKERS)
    return name, maker(rng)


# ---------------------------------------------------------------- per-file generators

@dataclass(frozen=True)
class Service:
    name: str
    team: str
    lang: str
    port: int


def dockerfile(corpus: Corpus, rng: random.Random, svc: Service) -> None:
    path = f"services/{svc.name}/Dockerfile"
    doc = Lines()
    latest = rng.random() < 0.15
    root = rng.random() < 0.30
    base = {"python": "python:3.12-slim", "node": "node:20-alpine", "go": "golang:1.22-alpine"}[svc.lang]
    doc.add(f"# {svc.name}: owned by team {svc.team}")
    if svc.lang == "go":
        doc.add(f"FROM {base} AS build", "WORKDIR /src", "COPY go.mod ./", "RUN go mod download",
                "COPY . .", "RUN CGO_ENABLED=0 go build -o /out/app .", "")
        final = "gcr.io/distroless/static-debian12:" + ("latest" if latest else "nonroot")
        line = doc.add(f"FROM {final}")
        doc.add("COPY --from=build /out/app /app")
    else:
        image = base.split(":")[0] + ":latest" if latest else base
        line = doc.add(f"FROM {image}")
        doc.add("WORKDIR /app")
        if svc.lang == "python":
            doc.add("RUN apt-get update \\", "    && apt-get install -y --no-install-recommends libpq5 \\",
                    "    && rm -rf /var/lib/apt/lists/*", "COPY requirements.txt .",
                    "RUN pip install --no-cache-dir -r requirements.txt")
        else:
            doc.add("COPY package.json package-lock.json ./", "RUN npm ci --omit=dev")
        if rng.random() < 0.05:
            pipe = doc.add("RUN curl -fsSL https://install.example.com/agent.sh | sh")
            corpus.problem("curl-pipe-shell", path, pipe)
        doc.add("COPY . .")
    if latest:
        corpus.problem("image-latest", path, line, "dockerfile")
    if rng.random() < 0.03:
        secret_kind, value = pick_secret(rng)
        at = doc.add(f"ENV SERVICE_CREDENTIAL={value}")
        corpus.problem("secret", path, at, secret_kind)
    doc.add(f"ENV PORT={svc.port}", f"EXPOSE {svc.port}")
    if root and svc.lang == "go" and not latest:
        pass  # distroless :nonroot already runs as uid 65532: no USER line needed, nothing planted
    elif root:
        corpus.problem("runs-as-root", path, line, "no USER in final stage")
    else:
        doc.add("USER 10001:10001" if svc.lang != "go" else "USER nonroot:nonroot")
    doc.add("HEALTHCHECK CMD [\"/app\", \"-health\"]" if svc.lang == "go"
            else f"HEALTHCHECK CMD wget -qO- http://localhost:{svc.port}/healthz || exit 1")
    cmd = {"python": '["python", "app.py"]', "node": '["node", "index.js"]', "go": '["/app"]'}[svc.lang]
    doc.add(f"CMD {cmd}")
    corpus.put(path, doc, "dockerfile")


def compose(corpus: Corpus, rng: random.Random, svc: Service) -> None:
    path = f"services/{svc.name}/docker-compose.yml"
    doc = Lines()
    doc.add("services:", f"  {svc.name}:", "    build: .", f"    image: registry.example.com/{svc.name}:dev",
            "    ports:", f'      - "{svc.port}:{svc.port}"', "    env_file: .env")
    deps = []
    if rng.random() < 0.5:
        deps.append("redis")
    if rng.random() < 0.4:
        deps.append("postgres")
    if deps:
        doc.add("    depends_on:", *(f"      - {d}" for d in deps))
    if "redis" in deps:
        latest = rng.random() < 0.2
        start = doc.add("  redis:")
        image_line = doc.add("    image: redis:latest" if latest else "    image: redis:7.2-alpine")
        doc.add("    restart: unless-stopped", "    healthcheck:", '      test: ["CMD", "redis-cli", "ping"]',
                "      interval: 10s", "      timeout: 3s")
        variant = "value" if latest else "exact"
        corpus.member("compose-redis-service", "compose", path, start, doc.last, variant)
        if latest:
            corpus.problem("image-latest", path, image_line, "compose")
    if "postgres" in deps:
        start = doc.add("  postgres:", "    image: postgres:16.2-alpine", "    environment:",
                        "      POSTGRES_DB: app", "      POSTGRES_USER: app")
        password = doc.add("      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it in .env}")
        if rng.random() < 0.25:
            doc.lines[password - 1] = "      POSTGRES_PASSWORD: postgres"
            corpus.problem("plaintext-password", path, password, "compose")
        doc.add("    volumes:", "      - pgdata:/var/lib/postgresql/data")
        corpus.member("compose-postgres-service", "compose", path, start, doc.last,
                      "exact" if doc.lines[password - 1].endswith("in .env}") else "value")
        doc.add("", "volumes:", "  pgdata:")
    corpus.put(path, doc, "compose")


PY_STEPS = {
    "exact": ["      - name: Checkout", "        uses: actions/checkout@v4",
              "      - name: Set up Python", "        uses: actions/setup-python@v5", "        with:",
              '          python-version: "3.12"', "      - name: Cache pip", "        uses: actions/cache@v4",
              "        with:", "          path: ~/.cache/pip",
              "          key: pip-${{ runner.os }}-${{ hashFiles('**/requirements.txt') }}",
              "      - name: Install", "        run: pip install -r requirements.txt pytest",
              "      - name: Test", "        run: pytest -q"],
    "reordered": ["      - uses: actions/checkout@v4", "        name: Checkout",
                  "      - uses: actions/setup-python@v5", "        with:",
                  '          python-version: "3.12"',
                  "        name: Set up Python", "      - uses: actions/cache@v4", "        with:",
                  "          key: pip-${{ runner.os }}-${{ hashFiles('**/requirements.txt') }}",
                  "          path: ~/.cache/pip", "        name: Cache pip",
                  "      - run: pip install -r requirements.txt pytest", "        name: Install",
                  "      - run: pytest -q", "        name: Test"],
    "renamed": ["      - name: Check out code", "        uses: actions/checkout@v4",
                "      - name: Setup python", "        uses: actions/setup-python@v5", "        with:",
                '          python-version: "3.12"', "      - name: Restore pip cache",
                "        uses: actions/cache@v4", "        with:", "          path: ~/.cache/pip",
                "          key: pip-${{ runner.os }}-${{ hashFiles('**/requirements.txt') }}",
                "      - name: Install dependencies", "        run: pip install -r requirements.txt pytest",
                "      - name: Run tests", "        run: pytest -q"],
    "value": ["      - name: Checkout", "        uses: actions/checkout@v4",
              "      - name: Set up Python", "        uses: actions/setup-python@v5", "        with:",
              '          python-version: "3.11"', "      - name: Cache pip", "        uses: actions/cache@v3",
              "        with:", "          path: ~/.cache/pip",
              "          key: pip-${{ runner.os }}-${{ hashFiles('**/requirements.txt') }}",
              "      - name: Install", "        run: pip install -r requirements.txt pytest",
              "      - name: Test", "        run: pytest -q -x"],
}
NODE_STEPS = {
    "exact": ["      - uses: actions/checkout@v4", "      - uses: actions/setup-node@v4", "        with:",
              "          node-version: 20", "          cache: npm", "      - run: npm ci",
              "      - run: npm test"],
    "value": ["      - uses: actions/checkout@v4", "      - uses: actions/setup-node@v4", "        with:",
              "          node-version: 18", "          cache: npm", "      - run: npm ci",
              "      - run: npm test"],
}
GO_STEPS = {
    "exact": ["      - uses: actions/checkout@v4", "      - uses: actions/setup-go@v5", "        with:",
              '          go-version: "1.22"', "      - run: go vet ./...", "      - run: go test ./..."],
}


def _variant(rng: random.Random, choices: dict[str, list[str]]) -> str:
    names = sorted(choices)
    return "exact" if rng.random() < 0.5 else rng.choice(names)


def _steps(corpus: Corpus, rng: random.Random, doc: Lines, path: str, svc: Service) -> None:
    table = {"python": PY_STEPS, "node": NODE_STEPS, "go": GO_STEPS}[svc.lang]
    variant = _variant(rng, table)
    start = doc.add(*table[variant])
    corpus.member(f"gha-{svc.lang}-ci-steps", "gha-workflow", path, start, doc.last, variant)


def _job_header(doc: Lines, svc: Service, job: str) -> None:
    doc.add("jobs:", f"  {job}:", "    runs-on: ubuntu-latest", "    defaults:", "      run:",
            f"        working-directory: services/{svc.name}", "    steps:")


def workflows(corpus: Corpus, rng: random.Random, svc: Service) -> None:
    ci = f".github/workflows/{svc.name}-ci.yml"
    doc = Lines()
    doc.add(f"name: {svc.name} CI", "", "on:", "  pull_request:", f'    paths: ["services/{svc.name}/**"]',
            "  push:", "    branches: [main]", f'    paths: ["services/{svc.name}/**"]', "")
    if rng.random() < 0.6:
        doc.add("permissions:", "  contents: read", "")
    else:
        corpus.problem("missing-permissions", ci, 1, "gha-workflow")
    _job_header(doc, svc, "test")
    _steps(corpus, rng, doc, ci, svc)
    if rng.random() < 0.10:
        line = doc.add("      - uses: example-org/report-action@main")
        corpus.problem("unpinned-action", ci, line, "example-org/report-action@main")
    if rng.random() < 0.02:
        secret_kind, value = pick_secret(rng)
        doc.add("      - name: Upload coverage", "        env:")
        line = doc.add(f"          COVERAGE_TOKEN: {value}")
        doc.add("        run: ./scripts/upload-coverage.sh")
        corpus.problem("secret", ci, line, secret_kind)
    corpus.put(ci, doc, "gha-workflow")

    deploy = f".github/workflows/{svc.name}-deploy.yml"
    doc = Lines()
    doc.add(f"name: {svc.name} deploy", "", "on:", "  push:", "    branches: [main]",
            f'    paths: ["services/{svc.name}/**"]', "", "permissions:", "  contents: read",
            "  id-token: write", "", "jobs:", "  image:", "    runs-on: ubuntu-latest", "    steps:")
    start = doc.add("      - uses: actions/checkout@v4", "      - uses: docker/login-action@v3",
                    "        with:", "          registry: registry.example.com",
                    "          username: ${{ secrets.REGISTRY_USER }}",
                    "          password: ${{ secrets.REGISTRY_PASSWORD }}",
                    "      - uses: docker/build-push-action@v5", "        with:",
                    f"          context: services/{svc.name}", "          push: true",
                    f"          tags: registry.example.com/{svc.name}:${{{{ github.sha }}}}")
    corpus.member("gha-docker-build-push", "gha-workflow", deploy, start, doc.last, "parameter")
    doc.add("  rollout:", "    needs: image", "    runs-on: ubuntu-latest", "    steps:",
            "      - uses: actions/checkout@v4",
            f"      - run: ./services/{svc.name}/deploy.sh ${{{{ github.sha }}}}")
    corpus.put(deploy, doc, "gha-workflow")

    if rng.random() < 0.5:
        nightly = f".github/workflows/{svc.name}-nightly.yml"
        doc = Lines()
        doc.add(f"name: {svc.name} nightly", "", "on:", "  schedule:",
                f'    - cron: "{rng.randrange(60)} {rng.randrange(24)} * * *"', "  workflow_dispatch:", "")
        _job_header(doc, svc, "nightly")
        _steps(corpus, rng, doc, nightly, svc)
        corpus.put(nightly, doc, "gha-workflow")

    if rng.random() < 0.2:
        action = f".github/actions/{svc.name}-setup/action.yml"
        doc = Lines()
        doc.add(f"name: {svc.name} setup", "description: Toolchain and dependencies for the service",
                "runs:", "  using: composite")
        start = doc.add("  steps:", "    - uses: actions/setup-python@v5", "      with:",
                        '        python-version: "3.12"', "    - shell: bash",
                        "      run: pip install -r requirements.txt")
        corpus.member("gha-composite-setup", "gha-action", action, start, doc.last, "exact")
        corpus.put(action, doc, "gha-action")


def kubernetes(corpus: Corpus, rng: random.Random, svc: Service) -> None:
    path = f"services/{svc.name}/k8s/deployment.yaml"
    doc = Lines()
    latest = rng.random() < 0.15
    privileged = rng.random() < 0.10
    doc.add("apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {svc.name}", "  labels:",
            f"    app: {svc.name}", f"    team: {svc.team}", "spec:", f"  replicas: {rng.choice((1, 2, 3))}",
            "  selector:", "    matchLabels:", f"      app: {svc.name}", "  template:", "    metadata:",
            "      labels:", f"        app: {svc.name}", "    spec:", "      containers:",
            f"        - name: {svc.name}")
    image = doc.add(f"          image: registry.example.com/{svc.name}:" + ("latest" if latest else "1.0.0"))
    doc.add("          ports:", f"            - containerPort: {svc.port}")
    if privileged:
        doc.add("          securityContext:")
        line = doc.add("            privileged: true")
        corpus.problem("privileged", path, line, "k8s")
    else:
        doc.add("          securityContext:", "            runAsNonRoot: true",
                "            allowPrivilegeEscalation: false")
    doc.add("          resources:", "            limits:", "              cpu: 500m",
            "              memory: 256Mi")
    if latest:
        corpus.problem("image-latest", path, image, "k8s")
    corpus.member("k8s-deployment-template", "k8s", path, 1, doc.last, "parameter")
    corpus.put(path, doc, "k8s")
    service = Lines()
    service.add("apiVersion: v1", "kind: Service", "metadata:", f"  name: {svc.name}", "spec:", "  selector:",
                f"    app: {svc.name}", "  ports:", "    - port: 80", f"      targetPort: {svc.port}")
    corpus.put(f"services/{svc.name}/k8s/service.yaml", service, "k8s")


def env_example(corpus: Corpus, rng: random.Random, svc: Service) -> None:
    path = f"services/{svc.name}/.env.example"
    doc = Lines()
    doc.add("# Copy to .env for docker compose.", f"PORT={svc.port}", "LOG_LEVEL=info", "POSTGRES_PASSWORD=")
    if rng.random() < 0.04:
        secret_kind, value = pick_secret(rng)
        line = doc.add(f"UPSTREAM_CREDENTIAL={value}")
        corpus.problem("secret", path, line, secret_kind)
    else:
        doc.add("UPSTREAM_CREDENTIAL=")
    corpus.put(path, doc, "env")


def deploy_script(corpus: Corpus, rng: random.Random, svc: Service) -> None:
    path = f"services/{svc.name}/deploy.sh"
    doc = Lines()
    doc.add("#!/usr/bin/env bash", f"# Roll out {svc.name}. Usage: deploy.sh TAG", "set -euo pipefail", "",
            'TAG="${1:?usage: deploy.sh TAG}"', "")
    start = doc.add("log() {", '  echo "[$(date +%H:%M:%S)] $*" >&2', "}")
    corpus.member("shell-log-function", "shell", path, start, doc.last, "exact")
    doc.add("")
    timeout = "60s" if rng.random() < 0.7 else "120s"
    start = doc.add("wait_for_rollout() {", '  local deployment="$1"', "  for attempt in 1 2 3 4 5; do",
                    f'    if kubectl rollout status "deployment/$deployment" --timeout={timeout}; then',
                    "      return 0", "    fi", '    log "attempt $attempt failed, retrying"', "    sleep 5",
                    "  done", "  return 1", "}")
    corpus.member("shell-wait-for-rollout", "shell", path, start, doc.last,
                  "exact" if timeout == "60s" else "value")
    image = f"registry.example.com/{svc.name}:$TAG"
    doc.add("", f'kubectl set image "deployment/{svc.name}" "{svc.name}={image}"',
            f"wait_for_rollout {svc.name}")
    corpus.put(path, doc, "shell")


def sources(corpus: Corpus, rng: random.Random, svc: Service) -> None:
    base = f"services/{svc.name}"
    if svc.lang == "python":
        corpus.put(f"{base}/app.py", f'"""{svc.name} service."""\n\nPORT = {svc.port}\n\n\n'
                   f'def main() -> None:\n    print("{svc.name} listening on", PORT)\n', "other")
        corpus.put(f"{base}/requirements.txt", "flask==3.0.3\ngunicorn==22.0.0\n", "other")
    elif svc.lang == "node":
        corpus.put(f"{base}/package.json", json.dumps({"name": svc.name, "version": "1.0.0", "private": True,
                                                        "scripts": {"test": "node --test"}}, indent=2) + "\n",
                   "other")
    else:
        corpus.put(f"{base}/go.mod", f"module example.com/{svc.name}\n\ngo 1.22\n", "other")
    if rng.random() < 0.3:
        corpus.put(f"{base}/config.yaml", f"server:\n  port: {svc.port}\n  read_timeout: 5s\nfeatures:\n"
                   f"  beta: {rng.choice(('true', 'false'))}\n", "yaml")


def gitlab(corpus: Corpus, services: list[Service]) -> None:
    root = Lines()
    root.add("# Monorepo pipeline: every team keeps its jobs in ci/gitlab/<team>.yml.", "stages:",
             "  - build", "  - test", "", "variables:", "  REGISTRY: registry.example.com", "", "include:")
    for team in TEAMS:
        root.add(f"  - local: ci/gitlab/{team}.yml")
    corpus.put(".gitlab-ci.yml", root, "gitlab-ci")
    for team in TEAMS:
        path = f"ci/gitlab/{team}.yml"
        doc = Lines()
        doc.add(f"# Jobs of team {team}.")
        for svc in (s for s in services if s.team == team):
            doc.add("")
            start = doc.add(f"build-{svc.name}:", "  stage: build", "  image: docker:24.0",
                            "  services:", "    - docker:24.0-dind", "  script:",
                            f"    - docker build -t $REGISTRY/{svc.name}:$CI_COMMIT_SHA services/{svc.name}",
                            f"    - docker push $REGISTRY/{svc.name}:$CI_COMMIT_SHA")
            corpus.member("gitlab-build-job", "gitlab-ci", path, start, doc.last, "parameter")
        corpus.put(path, doc, "gitlab-ci")


def generate(services_count: int, seed: int) -> Corpus:
    """Build the whole corpus in memory (deterministic for a given seed)."""
    rng = random.Random(seed)
    corpus = Corpus()
    weights = [w for _, w in LANGS]
    services: list[Service] = []
    for i in range(services_count):
        team = TEAMS[i % len(TEAMS)]
        lang = rng.choices([name for name, _ in LANGS], weights)[0]
        services.append(Service(f"{team}-{rng.choice(NOUNS)}-{i:04d}", team, lang, 8000 + i % 1000))
    for svc in services:
        dockerfile(corpus, rng, svc)
        compose(corpus, rng, svc)
        workflows(corpus, rng, svc)
        kubernetes(corpus, rng, svc)
        env_example(corpus, rng, svc)
        deploy_script(corpus, rng, svc)
        sources(corpus, rng, svc)
    gitlab(corpus, services)
    corpus.put("README.md", f"# Generated monorepo\n\n{services_count} services, seed {seed}.\n", "other")
    corpus.put(".gitignore", "node_modules/\n__pycache__/\n.env\n/manifest.json\n", "other")
    return corpus


def manifest(corpus: Corpus, services_count: int, seed: int) -> dict[str, object]:
    problem_counts = Counter(str(p["type"]) for p in corpus.problems)
    return {
        "seed": seed,
        "services": services_count,
        "file_count": len(corpus.files),
        "kind_counts": dict(sorted(Counter(corpus.kinds.values()).items())),
        "problem_counts": dict(sorted(problem_counts.items())),
        "files": dict(sorted(corpus.kinds.items())),
        "problems": corpus.problems,
        "groups": [corpus.groups[name] for name in sorted(corpus.groups)],
    }


def write(corpus: Corpus, out: Path, data: dict[str, object]) -> None:
    for rel in sorted(corpus.files):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(corpus.files[rel], encoding="utf-8", newline="\n")
        if rel.endswith(".sh"):
            path.chmod(0o755)
    (out / "manifest.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def commit(out: Path) -> str:
    """Commit everything with a fixed author and date so the commit hash is reproducible too."""
    import git

    env = {"GIT_AUTHOR_NAME": "corpus", "GIT_AUTHOR_EMAIL": "corpus@example.invalid",
           "GIT_COMMITTER_NAME": "corpus", "GIT_COMMITTER_EMAIL": "corpus@example.invalid",
           "GIT_AUTHOR_DATE": FIXED_DATE, "GIT_COMMITTER_DATE": FIXED_DATE}
    repo = git.Repo.init(out, initial_branch="main")
    try:
        repo.git.add(A=True)
        repo.git.commit("-q", "--no-gpg-sign", "-m", "Generated corpus", env=env)
        return str(repo.head.commit.hexsha)
    finally:
        repo.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gen_corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to create (must not exist or be empty)")
    parser.add_argument("--services", type=int, default=1000, help="number of services (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--no-git", action="store_true", help="do not git init and commit")
    args = parser.parse_args(argv)
    out: Path = args.out
    if args.services < 1:
        parser.error("--services must be at least 1")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        print(f"gen_corpus: {out}: exists and is not an empty folder", file=sys.stderr)
        return 2
    corpus = generate(args.services, args.seed)
    data = manifest(corpus, args.services, args.seed)
    out.mkdir(parents=True, exist_ok=True)
    write(corpus, out, data)
    head = "" if args.no_git else f", commit {commit(out)[:12]}"
    kinds = ", ".join(f"{k} {n}" for k, n in data["kind_counts"].items())  # type: ignore[attr-defined]
    print(f"{len(corpus.files)} files in {out}{head}\n  kinds: {kinds}\n"
          f"  problems: {len(corpus.problems)}  copy-paste groups: {len(corpus.groups)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
