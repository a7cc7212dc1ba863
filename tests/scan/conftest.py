"""Fixtures for the scan tests: the official SARIF 2.1.0 schema, fetched once from the npm registry."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

SCHEMA_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"  # ships OASIS's sarif-2.1.0-rtm.5 schema
SCHEMA_MEMBER = "package/lib/schemas/sarif-2.1.0-rtm.5.json"
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="session")
def sarif_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if not CACHE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed once to fetch the official SARIF schema (npm registry)")
        work = tmp_path_factory.mktemp("sarif")
        subprocess.run([npm, "pack", SCHEMA_PACKAGE, "--silent"], cwd=work, check=True,
                       capture_output=True, timeout=120)
        tgz = next(work.glob("*.tgz"))
        with tarfile.open(tgz) as archive:
            member = archive.extractfile(SCHEMA_MEMBER)
            assert member is not None
            data = member.read()
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_bytes(data)
    schema = json.loads(CACHE.read_text(encoding="utf-8"))
    assert schema.get("title", "").startswith("Static Analysis Results Format (SARIF)")
    return schema
