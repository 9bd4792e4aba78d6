"""Pick a JDK that runs a given Elasticsearch version, and a javac for the shim module."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

from es_sandbox.common import ESSandboxError, major


def _java_major(java_home: Path) -> Optional[int]:
    release = java_home / "release"
    if release.exists():
        m = re.search(r'^JAVA_VERSION="([^"]+)"', release.read_text(errors="replace"), re.M)
        if m:
            v = m.group(1)
            return int(v.split(".")[1]) if v.startswith("1.") else int(re.split(r"[.+\-_]", v)[0])
    java = java_home / "bin" / "java"
    if not java.exists():
        return None
    try:
        out = subprocess.run([str(java), "-version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return None
    return int(m.group(2)) if m.group(1) == "1" else int(m.group(1))


def find_java_home(version: str) -> Path:
    """Pick a JDK for this Elasticsearch version.

    ``ORX_ES_JAVA_HOME`` wins.  Otherwise the lowest suitable JDK among
    ``/usr/lib/jvm/*``, ``$JAVA_HOME`` and ``java`` on PATH: Java 17+ for 8.x,
    Java 21+ for 9.x (8.x is picked on the oldest suitable JDK on purpose:
    that is what it was tested with most).
    """
    override = os.environ.get("ORX_ES_JAVA_HOME")
    if override:
        p = Path(override)
        if not (p / "bin" / "java").exists():
            raise ESSandboxError(f"ORX_ES_JAVA_HOME={override} has no bin/java")
        return p
    need = 21 if major(version) >= 9 else 17
    candidates: List[Path] = []
    jvm_dir = Path("/usr/lib/jvm")
    if jvm_dir.is_dir():
        candidates += sorted(p for p in jvm_dir.iterdir() if p.is_dir() and not p.is_symlink())
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    java = shutil.which("java")
    if java:
        candidates.append(Path(os.path.realpath(java)).parent.parent)
    found = []
    seen = set()
    for c in candidates:
        key = os.path.realpath(c)
        if key in seen:
            continue
        seen.add(key)
        java_version = _java_major(c)
        if java_version is not None:
            found.append((java_version, c))
    ok = sorted((m, c) for m, c in found if m >= need)
    if not ok:
        have = ", ".join(f"{c} (Java {m})" for m, c in found) or "none"
        raise ESSandboxError(
            f"Elasticsearch {version} needs Java {need}+; found: {have}. "
            "Install one (e.g. `apt-get install -y openjdk-17-jre-headless` for 8.x, "
            "a Java 21+ JDK for 9.x) or set ORX_ES_JAVA_HOME."
        )
    return ok[0][1]


def find_javac(version: str) -> Path:
    homes = [find_java_home(version)]
    jvm_dir = Path("/usr/lib/jvm")
    if jvm_dir.is_dir():
        homes += sorted(p for p in jvm_dir.iterdir() if p.is_dir())
    for h in homes:
        javac = h / "bin" / "javac"
        if javac.exists() and (_java_major(h) or 0) >= 17:
            return javac
    raise ESSandboxError(
        "need a JDK 17+ with javac to build the analysis module for the .security index "
        "(e.g. `apt-get install -y openjdk-17-jdk-headless`); none found in /usr/lib/jvm"
    )
