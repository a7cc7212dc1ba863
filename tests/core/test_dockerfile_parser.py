"""The Dockerfile parser on the forms BuildKit accepts: every instruction keeps its exact line span."""

from __future__ import annotations

from core.dockerfile import parse_dockerfile


def test_heredocs_several_per_instruction_and_tab_stripping() -> None:
    text = (
        "FROM alpine:3.19\n"
        "RUN <<EOF\n"
        "apk add curl\n"
        "echo done\n"
        "EOF\n"
        "COPY <<-'ONE' /a <<TWO /b\n"
        "\tfirst\n"
        "ONE\n"
        "second\n"
        "TWO\n"
        "USER app\n"
    )
    df = parse_dockerfile(text)
    run, copy, user = df.instructions[1:]
    assert (run.line, run.end_line) == (2, 5)
    assert run.heredocs[0].body == "apk add curl\necho done" and run.heredocs[0].line == 3
    assert "apk add curl" in run.shell_text
    assert [(h.name, h.body) for h in copy.heredocs] == [("ONE", "first"), ("TWO", "second")]
    assert (copy.line, copy.end_line) == (6, 10)
    assert (user.keyword, user.line) == ("USER", 11)
    assert df.problems == ()


def test_unclosed_heredoc_is_a_problem_not_a_crash() -> None:
    df = parse_dockerfile("FROM a:1\nRUN <<EOF\necho\n")
    assert [p.message for p in df.problems] == ["heredoc <<EOF is never closed"]


def test_escape_directive_with_backtick() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\ `\n    && echo ok\n"
    df = parse_dockerfile(text)
    assert df.escape == "`" and df.directives == {"escape": "`"}
    run = df.instructions[1]
    assert run.args == "dir C:\\ && echo ok"
    assert (run.line, run.end_line) == (3, 4)


def test_directive_after_a_comment_is_just_a_comment() -> None:
    df = parse_dockerfile("# hello\n# escape=`\nFROM a:1\n")
    assert df.escape == "\\" and df.directives == {}


def test_flags_mount_and_from() -> None:
    text = (
        "FROM golang:1.22 AS build\n"
        "RUN --mount=type=cache,target=/root/.cache/go-build --network=none go build ./...\n"
        "FROM scratch\n"
        "COPY --from=build --chmod=0755 /out/app /app\n"
    )
    df = parse_dockerfile(text)
    run, copy = df.instructions[1], df.instructions[3]
    assert run.flag("mount") == "type=cache,target=/root/.cache/go-build" and run.flag("network") == "none"
    assert run.args == "go build ./..."
    assert copy.flag("from") == "build" and copy.args == "/out/app /app"


def test_arg_before_from_and_multi_stage_names() -> None:
    text = (
        "ARG BASE=alpine:3.19\n"
        "FROM --platform=$BUILDPLATFORM ${BASE} AS Builder\n"
        "RUN make\n"
        "FROM builder AS test\n"
        "FROM ${BASE}\n"
        "COPY --from=Builder /x /x\n"
    )
    df = parse_dockerfile(text)
    assert [i.args for i in df.global_args] == ["BASE=alpine:3.19"]
    assert [(s.index, s.base, s.name) for s in df.stages] == [
        (0, "${BASE}", "Builder"), (1, "builder", "test"), (2, "${BASE}", None)]
    assert df.stages[0].platform == "$BUILDPLATFORM"
    assert df.stage_names() == {"builder", "test"}
    assert df.final_stage is not None and df.final_stage.line == 5
    assert [i.keyword for i in df.stages[0].instructions] == ["FROM", "RUN"]


def test_continuations_skip_comments_and_blank_lines() -> None:
    text = (
        "FROM debian:12\n"
        "RUN apt-get update \\\n"
        "# a comment inside the continuation\n"
        "\n"
        "    && apt-get install -y curl \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "CMD [\"curl\", \"--version\"]\n"
    )
    df = parse_dockerfile(text)
    run, cmd = df.instructions[1:]
    assert run.args == "apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*"
    assert (run.line, run.end_line) == (2, 6)
    assert cmd.json_args() == ["curl", "--version"] and cmd.is_json
    assert not run.is_json


def test_odd_lines_become_problems_beside_parsed_instructions() -> None:
    df = parse_dockerfile("FROM a:1\nFROBNICATE now\n== junk\nUSER x\n")
    assert [i.keyword for i in df.instructions] == ["FROM", "FROBNICATE", "USER"]
    assert [(p.message, p.line) for p in df.problems] == [
        ("unknown instruction FROBNICATE", 2), ("cannot parse line: '== junk'", 3)]


def test_no_from_is_a_problem() -> None:
    df = parse_dockerfile("RUN echo\n")
    assert df.stages == () and df.problems[0].message == "no FROM instruction"


def test_empty_file() -> None:
    df = parse_dockerfile("")
    assert df.instructions == () and df.problems == ()
