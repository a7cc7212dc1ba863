"""Advice from a replayed image: each hint points at the layer (and Dockerfile line) to change.

Contract: hints look only at paths, sizes, metadata and waste events; file contents are never read
here, so a secret-looking file is named by path and never shown. Only layers after the base image get
waste hints (a user cannot fix a base image), but secrets are reported in any layer, deleted or not.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

from core.layers.content import LayerContent
from core.layers.model import Hint, LayerSummary, WasteCause, WasteLog
from core.layers.replay import Dir, FileNode

MAX_LAYERS = 100

_CACHES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("pip", re.compile(r"^/(?:root|home/[^/]+)/\.cache/pip/"), "pip install --no-cache-dir"),
    ("npm", re.compile(r"^/(?:root|home/[^/]+)/\.npm/"), "npm ci && npm cache clean --force (same RUN)"),
    ("yarn", re.compile(r"^/(?:usr/local/share|root|home/[^/]+)/\.cache/yarn/"),
     "yarn install && yarn cache clean (same RUN)"),
    ("apk", re.compile(r"^/var/cache/apk/"), "apk add --no-cache"),
    ("yum/dnf", re.compile(r"^/var/cache/(?:yum|dnf)/"),
     "yum/dnf install ... && yum/dnf clean all (same RUN)"),
    ("go build", re.compile(r"^/(?:root|home/[^/]+)/\.cache/go-build/"),
     "build in a separate stage, or go clean -cache in the same RUN"),
)
_APT = re.compile(
    r"^/var/lib/apt/lists/(?!lock$|partial/?$|auxfiles/?$)|^/var/cache/apt/(?:archives/.+\.deb$|.+\.bin$)"
)
_BUILD_TOOLS = re.compile(
    r"^/usr/(?:local/)?bin/(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+|cmake|make|ld|as)(?:-[\d.]+)?$"
    r"|^/usr/(?:local/)?include/.+\.h$|^/usr/local/go/bin/go$|(?:^|/)\.git/"
)
_BROAD_COPY_PARTS = {".git": ".git", "node_modules": "node_modules", "tests": "tests", "test": "tests",
                     "__tests__": "tests"}
_SECRET_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env", "credentials", ".netrc", ".pypirc",
                 ".git-credentials", ".npmrc", "secrets.json", "secrets.yaml", "secrets.yml"}
_SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore")
# What a secret-looking name ends with, or starts with, in the newline-joined list of a layer's names.
_SECRET_ENDINGS = (*_SECRET_NAMES, *_SECRET_SUFFIXES, "config.json")
_SECRET_NEEDLES = (*(ending + "\n" for ending in _SECRET_ENDINGS), "\n.env.")
_HINTED_ROOTS = ("/var/", "/root/", "/home/", "/usr/")
_HINTED_TOP = frozenset(root.strip("/") for root in _HINTED_ROOTS)
_CA_PATHS = re.compile(r"(?:^|/)(?:certs?|ca-certificates|certifi|ssl|pki)/|cacert|ca-bundle|/share/")
_ENV_SAMPLES = (".example", ".sample", ".template", ".dist", ".defaults")


def is_secret_path(path: str) -> bool:
    """Whether a path's name looks like a key, a credential store or an env file."""
    name = path.rsplit("/", 1)[-1]
    if name in _SECRET_NAMES or path.endswith(("/.aws/credentials", "/.docker/config.json")):
        return True
    if name.startswith(".env.") and not name.endswith(_ENV_SAMPLES):
        return True
    return name.endswith(_SECRET_SUFFIXES) and not _CA_PATHS.search(path)


def _hint_at(layer: LayerSummary, rule: str, title: str, message: str, suggestion: str, size: int) -> Hint:
    return Hint(rule, title, message, layer.index, layer.instruction, layer.dockerfile_line,
                suggestion, size)


def _top_layer(sizes: dict[int, int]) -> int:
    return max(sizes, key=lambda k: (sizes[k], k))


def hinted_files(root: Dir) -> Iterator[tuple[str, FileNode]]:
    """The visible files `make_hints` looks at (a superset): under /var, /root, /home and /usr, or below
    a folder whose name ends in '.git'; the rest of the tree is walked without building paths."""
    stack: list[tuple[str, Dir, bool]] = [("", root, False)]
    while stack:
        prefix, node, wanted = stack.pop()
        if not wanted and Dir not in set(map(type, node.children.values())):
            continue  # files only, none hinted: skipped without a look at each
        for name, child in node.children.items():
            if isinstance(child, Dir):
                inside = wanted or (not prefix and name in _HINTED_TOP) or name.endswith(".git")
                stack.append((f"{prefix}/{name}", child, inside))
            elif wanted:
                yield f"{prefix}/{name}", child


def make_hints(
    layers: tuple[LayerSummary, ...],
    contents: list[LayerContent],
    visible: Iterable[tuple[str, FileNode]],
    events: WasteLog,
    base_layers: int,
) -> list[Hint]:
    """All hints for one image, most bytes first within each rule."""
    hints: list[Hint] = []
    apt: dict[int, int] = defaultdict(int)
    caches: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    tools: dict[int, list[str]] = defaultdict(list)
    for path, node in visible:
        writer, size = node[3], node[1]
        if writer < base_layers or not (path.startswith(_HINTED_ROOTS) or ".git/" in path):
            continue
        if _APT.search(path):
            apt[writer] += size
        for cache, pattern, _fix in _CACHES:
            if pattern.search(path):
                caches[cache][writer] += size
        if _BUILD_TOOLS.search(path):
            tools[writer].append(path)
    if apt and sum(apt.values()):
        layer = layers[_top_layer(apt)]
        hints.append(_hint_at(
            layer, "apt-leftovers", "apt lists/archives left in the image",
            f"{_fmt(sum(apt.values()))} of apt package lists or archives stay in layer {layer.index}",
            "end the same RUN with: && apt-get clean && rm -rf /var/lib/apt/lists/*", sum(apt.values())))
    for cache, _pattern, fix in _CACHES:
        by_layer = caches.get(cache)
        if by_layer and sum(by_layer.values()):
            layer = layers[_top_layer(by_layer)]
            hints.append(_hint_at(
                layer, "package-cache", f"{cache} cache left in the image",
                f"{_fmt(sum(by_layer.values()))} of {cache} cache stay in layer {layer.index}", fix,
                sum(by_layer.values())))
    if tools:
        layer = layers[max(tools, key=lambda k: len(tools[k]))]
        sample = sorted({p for paths in tools.values() for p in paths})
        git = any("/.git/" in p or p.startswith("/.git/") for p in sample)
        what = "a .git folder" if git and len(sample) == sum(1 for p in sample if ".git/" in p) else \
            "build tools (compilers, headers, .git)"
        hints.append(_hint_at(
            layer, "build-tools", "build tools in the final image",
            f"{what} in the final image, e.g. {', '.join(sample[:3])}",
            "use a multi-stage build: compile in a builder stage, COPY --from=builder only the output", 0))
    hints.extend(_waste_hints(layers, events, base_layers))
    hints.extend(_broad_copy_hints(layers, contents, base_layers))
    hints.extend(_secret_hints(layers, contents))
    if len(layers) > MAX_LAYERS:
        last = layers[-1]
        hints.append(Hint("too-many-layers", "more than 100 layers",
                          f"the image has {len(layers)} layers; overlay filesystems cap them at 128",
                          last.index, last.instruction, None,
                          "merge RUN steps and use a multi-stage build", 0))
    return hints


def _waste_hints(layers: tuple[LayerSummary, ...], events: WasteLog, base_layers: int) -> list[Hint]:
    deleted: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    copied: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    causes: dict[tuple[int, int], set[WasteCause]] = defaultdict(set)
    for written, hidden, cause, size, count in events.totals():
        if written < base_layers or written == hidden:
            continue
        if cause.is_copy_up:
            target = copied[(written, hidden)]
            causes[(written, hidden)].add(cause)
        elif cause == WasteCause.DELETED:
            target = deleted[(written, hidden)]
        else:
            continue
        target[0] += size
        target[1] += count
    hints: list[Hint] = []
    for (written, hidden), (size, count) in sorted(deleted.items(), key=lambda kv: -kv[1][0]):
        writer, remover = layers[written], layers[hidden]
        line = f" (Dockerfile line {remover.dockerfile_line})" if remover.dockerfile_line else ""
        hints.append(_hint_at(
            writer, "cleanup-later", "files deleted in a later layer still ship",
            f"{count} files ({_fmt(size)}) written by layer {written} are deleted by layer {hidden}{line}, "
            "which hides them but frees nothing",
            "delete them in the same RUN that creates them, or never COPY them in", size))
    for (written, hidden), (size, count) in sorted(copied.items(), key=lambda kv: -kv[1][0]):
        writer, changer = layers[written], layers[hidden]
        kinds = ", ".join(sorted(c.value.split("(")[1].rstrip(")") for c in causes[(written, hidden)]))
        line = f" (Dockerfile line {writer.dockerfile_line})" if writer.dockerfile_line else ""
        fix = "use COPY --chown=USER:GROUP --chmod=MODE" if writer.keyword in ("COPY", "ADD") else \
            "set ownership/mode in the same RUN that creates the files"
        hints.append(_hint_at(
            changer, "copy-up", f"{kinds} copied files up",
            f"layer {hidden} re-stores {count} files ({_fmt(size)}) of layer {written}{line} only to change "
            f"their metadata ({kinds})", fix, size))
    return hints


def _broad_copy_hints(
    layers: tuple[LayerSummary, ...], contents: list[LayerContent], base_layers: int
) -> list[Hint]:
    hints = []
    for layer, content in zip(layers, contents, strict=True):
        if layer.index < base_layers or layer.keyword not in ("COPY", "ADD"):
            continue
        found: dict[str, int] = defaultdict(int)
        for path, _kind, size, _meta, _link in content.entries():
            for part in path.split("/"):
                label = _BROAD_COPY_PARTS.get(part)
                if label:
                    found[label] += size
                    break
        if found:
            names = ", ".join(sorted(found))
            hints.append(_hint_at(
                layer, "broad-copy", "COPY brought in files the image does not need",
                f"{layer.instruction[:60]} copied {names} ({_fmt(sum(found.values()))})",
                "add " + ", ".join(sorted(found)) + " to .dockerignore", sum(found.values())))
    return hints


def _secret_candidates(names: list[str]) -> set[str]:
    """The names that may be secret files: a superset, found by C-speed searches of all names joined,
    since a layer may hold millions of names and almost none is a secret."""
    text = "\n" + "\n".join(names) + "\n"
    if text.count("\n") != len(names) + 1:  # a name holds a newline: test every name on its own
        return {name for name in names if name.endswith(_SECRET_ENDINGS) or name.startswith(".env.")}
    found: set[str] = set()
    for needle in _SECRET_NEEDLES:
        at = text.find(needle)
        while at >= 0:
            start = text.rfind("\n", 0, at + 1) + 1  # "\n.env." starts on the line before the name
            end = text.find("\n", at + 1)
            found.add(text[start:end])
            at = text.find(needle, end)
    return found


def _secret_hints(layers: tuple[LayerSummary, ...], contents: list[LayerContent]) -> list[Hint]:
    hints = []
    for layer, content in zip(layers, contents, strict=True):
        candidates = _secret_candidates(content.names)
        names = sorted(
            content.path(number) for number, (name, kind) in enumerate(zip(content.names, content.kinds,
                                                                            strict=True))
            if name in candidates and kind == "f" and is_secret_path(content.path(number))
        ) if candidates else []
        if names:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            hints.append(_hint_at(
                layer, "secret-file", "secret-looking files in a layer",
                f"layer {layer.index} contains {shown}; anyone with the image can read them, "
                "even if a later layer deletes them",
                "keep them out with .dockerignore; pass secrets with RUN --mount=type=secret", 0))
    return hints


def matches_any(path: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, g) for g in globs)


def _fmt(size: int) -> str:
    return format_bytes(size)


def format_bytes(size: int) -> str:
    """1234567 -> '1.2 MB' (decimal units, as docker prints them)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
