"""The shell tokenizer shared by Dockerfile, GitLab and GitHub Actions rules."""

from __future__ import annotations

from core.models import Position
from core.rules.shell_words import (
    SourceMap,
    enables_pipefail,
    has_option,
    operands,
    pipelines,
    split_commands,
    unwrap,
)


def texts(script: str) -> list[list[str]]:
    return [[w.text for w in c.words] for c in split_commands(script)]


def test_splits_on_operators_and_keeps_them() -> None:
    commands = split_commands("a 1 && b 2 || c; d | e |& f & g\nh")
    assert [c.name for c in commands] == list("abcdefgh")
    assert [c.op for c in commands] == ["&&", "||", ";", "|", "|&", "&", "\n", ""]
    assert [c.piped_from for c in commands] == [False, False, False, False, True, True, False, False]


def test_quotes_escapes_and_substitutions() -> None:
    script = """echo "a b" 'c | d' e\\ f "$(x | y)" `z` ${V:-w} "q\\"r" """
    assert texts(script) == [["echo", "a b", "c | d", "e f", "$(x | y)", "`z`", "${V:-w}", 'q"r']]
    words = split_commands(script)[0].words
    assert script[words[1].start:words[1].end] == '"a b"'
    assert words[1].quoted and not words[0].quoted


def test_comments_redirections_and_heredoc_bodies_are_not_words() -> None:
    script = "cat <<EOF > /etc/x # note | here\napt-get install nope\nEOF\nls 2>&1 >/dev/null\n"
    commands = split_commands(script)
    assert [c.name for c in commands] == ["cat", "ls"]
    assert [(op, w.text) for op, w in commands[0].redirects] == [("<<", "EOF"), (">", "/etc/x")]
    assert [(op, w.text) for op, w in commands[1].redirects] == [(">&", "1"), (">", "/dev/null")]


def test_line_continuation_subshells_and_process_substitution() -> None:
    commands = split_commands("(cd /src && \\\n make) || bash <(curl -s x)")
    assert [(c.name, c.depth) for c in commands] == [("cd", 1), ("make", 1), ("bash", 0)]
    assert commands[2].words[1].text == "<(curl -s x)"


def test_assignments_keywords_and_wrappers() -> None:
    command = split_commands("if true; then A=1 sudo -u app env B=2 apt-get -y install x; fi")[1]
    assert [w.text for w in command.assignments] == ["A=1"]
    assert command.name == "sudo"
    assert [w.text for w in unwrap(command.argv)] == ["apt-get", "-y", "install", "x"]


def test_options_operands_and_pipefail() -> None:
    words = split_commands("apt-get -qy -o Dpkg::Options=x install --yes=1 curl -- -weird")[0].words
    assert has_option(words[1:], "y") is words[1]
    assert has_option(words[1:], "", ("--yes",)) is words[5]
    assert [w.text for w in operands(words[1:], frozenset({"-o"}))] == ["install", "curl", "-weird"]
    assert enables_pipefail(split_commands("set -euxo pipefail")[0])
    assert not enables_pipefail(split_commands("set -eux")[0])


def test_pipelines_group_piped_commands() -> None:
    groups = pipelines(split_commands("a | b | c && d | e; f"))
    assert [[c.name for c in g] for g in groups] == [["a", "b", "c"], ["d", "e"], ["f"]]


def test_unclosed_quotes_do_not_raise() -> None:
    assert texts("echo 'open") == [["echo", "open"]]
    assert texts('echo "$(unclosed') == [["echo", "$(unclosed"]]


def test_source_map_positions_across_pieces() -> None:
    source = SourceMap()
    source.add("apt-get install", 3, 5)
    source.add_gap(" ")
    source.add("  curl", 4, 1)
    text = source.text
    start = text.index("curl")
    assert source.position(start, start + 4) == Position(4, 3, 4, 7)
    tail = source.tail(text.index("install"))
    assert tail.text.startswith("install")
    assert tail.position(0, 7) == Position(3, 13, 3, 20)
