"""Layer -> Dockerfile line by content: RUN by command words, COPY/ADD by destination, aligned so that
extra layers (base image, ONBUILD) or instructions without a layer do not stop the mapping. Pure
functions on recorded history texts, a hand-built archive, and real classic-builder images."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.dockerfile import parse_dockerfile
from core.layers import analyse_image
from core.layers.history import dockerfile_lines, instruction_of
from tests.layers.archives import docker_archive, file, layer_tar
from tests.layers.conftest import BASE_IMAGE, build


def _lines(history: list[str], dockerfile: str) -> list[int | None]:
    instructions = [instruction_of(h) for h in history]
    return [i.line if i else None for i in dockerfile_lines(instructions, parse_dockerfile(dockerfile))]


@pytest.mark.parametrize(("created_by", "shown"), [
    ("/bin/sh -c #(nop)  COPY file:ab in /x ", "COPY file:ab in /x"),
    ("/bin/sh -c make", "RUN make"),
    ("|1 VER=1.2 /bin/sh -c echo $VER > /v.txt", "RUN echo $VER > /v.txt"),
    ("|2 A=1 B=two words /bin/sh -c make", "RUN make"),
    ("|1 VER=1.2 apt-get install -y x", "RUN apt-get install -y x"),  # exec form with a build arg
    ("/bin/sh -e -c echo hi", "RUN echo hi"),
    ("/bin/bash -o pipefail -c curl x | sh", "RUN curl x | sh"),
    ("/bin/sh -e -c #(nop)  SHELL [/bin/sh -e -c]", "SHELL [/bin/sh -e -c]"),
    ("RUN |1 A=1 /bin/sh -c make # buildkit", "RUN make"),
    ("COPY --chown=1:1 src /app/ # buildkit", "COPY --chown=1:1 src /app/"),
])
def test_instruction_as_written(created_by: str, shown: str) -> None:
    assert instruction_of(created_by) == shown


def test_base_image_and_onbuild_layers_are_skipped() -> None:
    history = [
        "/bin/sh -c #(nop) ADD file:0123abcd in / ",  # the base image's own layers
        "/bin/sh -c apt-get update && apt-get install -y ca-certificates",
        "/bin/sh -c #(nop) COPY file:77aa in /usr/local/bin/entry ",
        "/bin/sh -c echo from an ONBUILD trigger > /onbuild",  # not in our Dockerfile
        "/bin/sh -c apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
        "/bin/sh -c #(nop) COPY dir:99ff in /app ",
        "/bin/sh -c make -C /app",
    ]
    dockerfile = (
        "FROM base\n"  # 1
        "RUN useradd --system app\n"  # 2: added since the image was built
        "RUN apt-get update \\\n"  # 3
        "    && apt-get install -y curl \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "COPY . /app/\n"  # 6
        "RUN make -C /app\n"  # 7
    )
    assert _lines(history, dockerfile) == [None, None, None, None, 3, 6, 7]


def test_an_instruction_without_layer_does_not_stop_the_mapping() -> None:
    # The old mapping paired from the end and stopped at the first keyword mismatch: RUN true made no
    # layer here (BuildKit drops empty ones), so everything before it went unmapped.
    history = ["ADD file:1 in /", "/bin/sh -c #(nop) COPY file:2 in /etc/app.conf ",
               "/bin/sh -c build --release", "/bin/sh -c #(nop) COPY file:3 in /usr/bin/app "]
    dockerfile = ("FROM x\nCOPY app.conf /etc/app.conf\nRUN build --release\nRUN true\n"
                  "COPY app /usr/bin/app\n")
    assert _lines(history, dockerfile) == [None, 2, 3, 5]


def test_same_keyword_but_different_content_is_not_paired() -> None:
    history = ["ADD file:1 in /", "/bin/sh -c pip install flask", "/bin/sh -c #(nop) COPY file:2 in /srv "]
    dockerfile = "FROM x\nRUN npm ci --omit=dev\nCOPY . /app\n"
    assert _lines(history, dockerfile) == [None, None, None]


def test_run_text_matches_by_similarity_not_equality() -> None:
    recorded = ("/bin/sh -c curl -fsSL https://example.com/tool-1.2.3-linux.tgz | tar -xz -C /opt "
                "&& ln -s /opt/tool /usr/local/bin/tool")
    dockerfile = ("FROM x\n"
                  "RUN curl -fsSL https://example.com/tool-${VERSION}-linux.tgz | tar -xz -C /opt \\\n"
                  "    && ln -s /opt/tool /usr/local/bin/tool\n")
    assert _lines(["ADD file:1 in /", recorded], dockerfile) == [None, 2]


def test_copy_destinations_classic_and_buildkit() -> None:
    dockerfile = (
        "FROM x\n"  # 1
        "ARG HOME_DIR=/home/app\n"  # 2
        "ENV DATA=/data\n"  # 3
        "WORKDIR /app\n"  # 4
        "COPY a.txt .\n"  # 5
        "COPY --chown=1:1 b.txt sub/\n"  # 6
        "COPY d $DATA/\n"  # 7
        "COPY a.txt b.txt /multi/\n"  # 8
        "ADD a.txt ${HOME_DIR}/added.txt\n"  # 9
        "COPY [\"c d.txt\", \"/spaced/\"]\n"  # 10
    )
    classic = [
        "ADD file:1 in /",
        "/bin/sh -c #(nop) COPY file:a596 in . ",
        "/bin/sh -c #(nop) COPY --chown=1:1file:8346 in sub/ ",
        "/bin/sh -c #(nop) COPY dir:6558 in /data/ ",
        "/bin/sh -c #(nop) COPY multi:59e3 in /multi/ ",
        "/bin/sh -c #(nop) ADD file:a596 in /home/app/added.txt ",
        "/bin/sh -c #(nop) COPY file:cc01 in /spaced/ ",
    ]
    assert _lines(classic, dockerfile) == [None, 5, 6, 7, 8, 9, 10]
    buildkit = [
        "ADD file:1 in /",
        "COPY a.txt . # buildkit",
        "COPY --chown=1:1 b.txt sub/ # buildkit",
        "COPY d /data/ # buildkit",
        "COPY a.txt b.txt /multi/ # buildkit",
        "ADD a.txt /home/app/added.txt # buildkit",
        "COPY c d.txt /spaced/ # buildkit",
    ]
    assert _lines(buildkit, dockerfile) == [None, 5, 6, 7, 8, 9, 10]


def test_copy_to_the_same_place_pairs_in_order_and_a_keyword_must_agree() -> None:
    history = ["ADD file:1 in /", "/bin/sh -c #(nop) COPY file:2 in /app/ ",
               "/bin/sh -c #(nop) COPY dir:3 in /app/ ", "/bin/sh -c #(nop) ADD file:4 in /app/ "]
    dockerfile = "FROM x\nCOPY package.json /app/\nCOPY src /app/\n"
    assert _lines(history, dockerfile) == [None, 2, 3, None]


def test_final_stage_built_from_an_earlier_stage_maps_both() -> None:
    dockerfile = (
        "FROM node:20 AS deps\n"  # 1
        "COPY package.json /app/\n"  # 2
        "RUN npm ci\n"  # 3
        "FROM node:20 AS build\n"  # 4
        "RUN npm run build\n"  # 5
        "FROM deps\n"  # 6
        "COPY server.js /app/\n"  # 7
    )
    history = ["ADD file:1 in /", "/bin/sh -c #(nop) COPY file:2 in /app/ ", "/bin/sh -c npm ci",
               "/bin/sh -c #(nop) COPY file:3 in /app/ "]
    assert _lines(history, dockerfile) == [None, 2, 3, 7]


def test_no_dockerfile_or_no_history_maps_nothing() -> None:
    assert dockerfile_lines(["RUN make"], None) == [None]
    assert _lines(["", ""], "FROM x\nRUN make\n") == [None, None]
    assert _lines(["/bin/sh -c make"], "") == [None]


def test_hand_built_archive_reports_the_lines(tmp_path: Path) -> None:
    layers = [layer_tar([file("bin/sh", 100)]), layer_tar([file("base-tool", 5)]),
              layer_tar([file("onbuild", 3)]), layer_tar([file("srv/app", 50)]),
              layer_tar([file("srv/built", 70)])]
    history = ["/bin/sh -c #(nop) ADD file:1 in / ", "/bin/sh -c install base-tool",
               "/bin/sh -c touch /onbuild", "/bin/sh -c #(nop) COPY dir:2 in /srv ",
               "|1 MODE=release /bin/sh -c make -C /srv MODE=$MODE"]
    dockerfile = parse_dockerfile("FROM base\nARG MODE=release\nCOPY . /srv\nRUN make -C /srv MODE=$MODE\n")
    report = analyse_image(str(docker_archive(tmp_path / "h.tar", layers, history)), dockerfile=dockerfile)
    assert [layer.dockerfile_line for layer in report.layers] == [None, None, None, 3, 4]
    assert report.layers[4].instruction == "RUN make -C /srv MODE=$MODE"


HISTORY_DOCKERFILE = f"""FROM {BASE_IMAGE}
ARG VER=1.2
ENV D=/data
WORKDIR /app
COPY a.txt .
COPY --chown=1:1 b.txt sub/
COPY d $D/
COPY a.txt b.txt /multi/
ADD a.txt /added.txt
RUN echo $VER > /v.txt
SHELL ["/bin/sh", "-e", "-c"]
RUN echo hi \\
    && echo there > /t.txt
RUN ["/bin/sh", "-c", "echo exec > /e.txt"]
"""

ONBUILD_DOCKERFILE = f"""FROM {BASE_IMAGE}
RUN echo base > /base.txt
ONBUILD RUN echo triggered > /onbuild.txt
"""

CHILD_DOCKERFILE = """FROM dtui-test-onbuild:1
RUN echo child > /child.txt
RUN echo base > /again.txt
"""


@pytest.mark.docker
def test_real_classic_builder_history_maps_every_layer(engine_base: str, tmp_path: Path) -> None:
    files = {"a.txt": b"a\n", "b.txt": b"b\n"}
    (tmp_path / "ctx" / "d").mkdir(parents=True)
    (tmp_path / "ctx" / "d" / "c.txt").write_text("c\n")
    tag = build("dtui-test-history:1", HISTORY_DOCKERFILE, tmp_path / "ctx", files)
    report = analyse_image(tag, dockerfile=parse_dockerfile(HISTORY_DOCKERFILE))
    keywords = [layer.instruction.split(" ", 1)[0] for layer in report.layers]
    assert keywords == ["", "WORKDIR", "COPY", "COPY", "COPY", "COPY", "ADD", "RUN", "RUN", "RUN"]
    assert [layer.dockerfile_line for layer in report.layers] == [None, None, 5, 6, 7, 8, 9, 10, 12, 14]
    assert report.layers[7].instruction == "RUN echo $VER > /v.txt"


@pytest.mark.docker
def test_real_onbuild_trigger_layer_is_left_unmapped(engine_base: str, tmp_path: Path) -> None:
    build("dtui-test-onbuild:1", ONBUILD_DOCKERFILE, tmp_path / "base")
    tag = build("dtui-test-onbuild-child:1", CHILD_DOCKERFILE, tmp_path / "child")
    report = analyse_image(tag, dockerfile=parse_dockerfile(CHILD_DOCKERFILE))
    assert [layer.instruction for layer in report.layers][1:] == [
        "RUN echo base > /base.txt", "RUN echo triggered > /onbuild.txt", "RUN echo child > /child.txt",
        "RUN echo base > /again.txt"]
    # The base's own "echo base" is as similar as ours; the later layer wins, the trigger stays unmapped.
    assert [layer.dockerfile_line for layer in report.layers] == [None, None, None, 2, 3]
