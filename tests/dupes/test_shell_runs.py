"""Statement runs copied across deploy scripts become one function in a sourced library, called with
the values that differ — and the scripts still do exactly what they did."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from core.discovery import build_index
from core.dupes.model import DuplicateCluster
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import find_clones
from core.patching import apply_proposal

SH = shutil.which("sh") or "/bin/sh"
#: identical statements that make a run worth sharing (the scan drops runs that save no lines)
FILLER = "mkdir -p build/logs\ntouch build/logs/run.log\nls build > /dev/null\nprintf '%s\\n' ready\n"

SCRIPT = """\
#!/bin/sh
# Build the {name} bundle.
set -eu

log() {{
  echo "[deploy] $*"
}}

OUT="build/{name}"
mkdir -p "$OUT/logs"
echo "building {name} into $OUT"
echo "service={name}" > "$OUT/info.txt"
echo 'bundle ready: {note}'
{filler}log done {name}
"""


def _cluster(root: Path, category: str = "shell-statements") -> tuple[DuplicateCluster, object]:
    index = build_index(root)
    found = [c for c in find_clones(index, min_lines=3) if c.category == category]
    assert len(found) == 1, [(c.category, c.occurrences) for c in find_clones(index, min_lines=3)]
    return found[0], index


def _run(root: Path, script: str) -> tuple[str, dict[str, str]]:
    """Run a script with sh in a fresh copy of the repo; its stdout and the files it wrote."""
    work = root.parent / f"run-{root.name}-{script.replace('/', '-')}"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(root, work, ignore=shutil.ignore_patterns(".git"))
    done = subprocess.run([SH, script], cwd=work, capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    built = work / "build"
    files = {p.relative_to(work).as_posix(): p.read_text() for p in built.rglob("*") if p.is_file()} \
        if built.exists() else {}
    return done.stdout, files


def _scripts(make_repo, **extra: str) -> Path:
    files = {f"deploy/{name}.sh": SCRIPT.format(name=name, note=note, filler=FILLER)
             for name, note in (("api", "fast path"), ("web", "slow path"), ("worker", "fast path"))}
    return make_repo({**files, **extra})


def test_statement_run_moves_into_a_library_function_and_behaves_the_same(make_repo):
    root = _scripts(make_repo)
    names = ("api", "web", "worker")
    before = {n: _run(root, f"deploy/{n}.sh") for n in names}
    assert before["web"][0].startswith("building web into build/web\nbundle ready: slow path\n")
    cluster, index = _cluster(root)
    assert cluster.copies == 3 and cluster.units_each == 11
    proposal = propose_abstraction(cluster, index)
    apply_proposal(root, proposal)

    lib = root / "deploy/lib/mkdir-echo.sh"
    assert proposal.paths[0] == "deploy/lib/mkdir-echo.sh"
    text = lib.read_text()
    assert text.count('local ') == 2 and '"$1"' in text and '"$2"' in text
    assert "echo \"bundle ready: ${" in text and '} path"' in text
    assert 'OUT="build/${' in text and 'echo "building ${' in text  # only the differing part is an argument
    assert "log done" in text
    for name in names:
        script = (root / f"deploy/{name}.sh").read_text()
        lines = script.splitlines()
        assert lines[2:4] == ["set -eu", '. "$(dirname "$0")/lib/mkdir-echo.sh"']  # the header stays
        assert script.count("lib/mkdir-echo.sh") == 1
        assert "mkdir -p" not in script and "log() {" in script  # the script keeps its own function
        speed = "slow" if name == "web" else "fast"
        assert lines[-1] == f'mkdir_echo "{name}" "{speed}"'  # called after the `log` it needs
        subprocess.run([SH, "-n", str(root / f"deploy/{name}.sh")], check=True)
    subprocess.run([SH, "-n", str(lib)], check=True)
    after = {n: _run(root, f"deploy/{n}.sh") for n in names}
    assert after == before

    index = build_index(root)
    left = [c for c in find_clones(index, min_lines=3) if c.category == "shell-statements"]
    for cluster in left:  # at most the scripts' own header and the call are still alike
        assert cluster.units_each <= 3
        with pytest.raises(NotProposable, match="only the scripts' header lines"):
            propose_abstraction(cluster, index)


def test_scripts_that_already_source_a_library_get_the_function_there(make_repo):
    header = '#!/bin/sh\nset -eu\n. "$(dirname "$0")/lib/common.sh"\n\n'
    body = 'mkdir -p "build/{n}"\necho "copying {n}"\ntouch "build/{n}/stamp"\n' + FILLER
    root = make_repo({
        "ops/lib/common.sh": "# shared\ngreet() {\n  echo hello\n}\n",
        "ops/a.sh": header + body.format(n="alpha"),
        "ops/b.sh": header + body.format(n="beta"),
    })
    cluster, index = _cluster(root)
    proposal = propose_abstraction(cluster, index)
    assert sorted(proposal.paths) == ["ops/a.sh", "ops/b.sh", "ops/lib/common.sh"]
    before = _run(root, "ops/b.sh")
    apply_proposal(root, proposal)
    common = (root / "ops/lib/common.sh").read_text()
    assert common.startswith("# shared\ngreet() {") and "mkdir_echo_touch() {" in common
    for name, value in (("a", "alpha"), ("b", "beta")):
        script = (root / f"ops/{name}.sh").read_text()
        assert script.count(". \"$(dirname") == 1 and script.rstrip().endswith(f'mkdir_echo_touch "{value}"')
    assert _run(root, "ops/b.sh") == before


def test_a_whole_quoted_word_is_passed_as_written(make_repo):
    body = "#!/bin/sh\nmkdir -p build\necho {msg}\n" + FILLER
    root = make_repo({"s/one.sh": body.format(msg="'$HOME is literal'"),
                      "s/two.sh": body.format(msg="'price: 5$'")})
    cluster, index = _cluster(root)
    before = _run(root, "s/one.sh")
    apply_proposal(root, propose_abstraction(cluster, index))
    assert (root / "s/one.sh").read_text().endswith("mkdir_echo \"build\" '$HOME is literal'\n") or \
        "'$HOME is literal'" in (root / "s/one.sh").read_text()
    assert _run(root, "s/one.sh") == before


@pytest.mark.parametrize(("line", "reason"), [
    ('exit 0', "call `exit`"),
    ('echo "$1"', r"\$1"),
    ('echo "$@"', r"\$@"),
    ('local x=1', "use `local`"),
    ('shift', "use `shift`"),
    ('return 0', "use `return`"),
])
def test_statements_a_function_would_change_are_refused(make_repo, line, reason):
    body = "#!/bin/sh\nmkdir -p build/{n}\n" + FILLER + line + "\necho last\n"
    root = make_repo({"d/a.sh": body.format(n="a"), "d/b.sh": body.format(n="b")})
    cluster, index = _cluster(root)
    with pytest.raises(NotProposable, match=reason):
        propose_abstraction(cluster, index)


def test_a_varying_unquoted_expansion_is_not_a_whole_word(make_repo):
    body = "#!/bin/sh\nmkdir -p build\ncp $SRC/{n} build\n" + FILLER
    root = make_repo({"d/a.sh": body.format(n="a"), "d/b.sh": body.format(n="b")})
    cluster, index = _cluster(root)
    with pytest.raises(NotProposable, match=r"not a whole word .*unquoted expansion"):
        propose_abstraction(cluster, index)


def test_an_argument_may_not_read_what_the_run_assigns(make_repo):
    body = '#!/bin/sh\nA_DIR=x\nB_DIR=y\necho "{v}"\n' + FILLER
    root = make_repo({"d/a.sh": body.format(v="$A_DIR"), "d/b.sh": body.format(v="$B_DIR")})
    cluster, index = _cluster(root)
    with pytest.raises(NotProposable, match="reads a variable the copied statements assign"):
        propose_abstraction(cluster, index)


def test_copies_differing_only_in_a_redirection_are_refused(make_repo):
    body = "#!/bin/sh\nmkdir -p build\necho one > build/{n}.txt\n" + FILLER
    root = make_repo({"d/a.sh": body.format(n="a"), "d/b.sh": body.format(n="b")})
    cluster, index = _cluster(root)
    assert cluster.exact  # the scan compares words, not redirection targets
    with pytest.raises(NotProposable, match="differ in a redirection"):
        propose_abstraction(cluster, index)


def test_a_run_cutting_through_a_block_is_refused(make_repo):
    body = "#!/bin/sh\nmkdir -p build\n" + FILLER + "if true; then\n  {inner}\nfi\n"
    root = make_repo({"d/a.sh": body.format(inner="echo in-a"), "d/b.sh": body.format(inner="ls")})
    cluster, index = _cluster(root)
    assert cluster.units_each == 6  # the `if … then` line, but not its body nor `fi`
    with pytest.raises(NotProposable, match="open a block they do not close"):
        propose_abstraction(cluster, index)


def test_the_demo_deploy_scripts_say_why_they_are_not_shared(tmp_path):
    from core.demo import make_demo_repo

    root = make_demo_repo(tmp_path / "demo")
    cluster, index = _cluster(root)
    with pytest.raises(NotProposable, match=r"\$1"):
        propose_abstraction(cluster, index)
