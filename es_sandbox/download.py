"""Fetch the Elasticsearch test distribution from Maven Central (with `mvn`) and unpack it once.

Cached under ``${ORX_ES_CACHE:-~/.cache/orx-elastic/elasticsearch}/<version>/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
import zipfile
from pathlib import Path

from es_sandbox.common import ESSandboxError, cache_root, major
from es_sandbox.shim import install_analysis_shim, shim_current

MAVEN_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MAVEN_COPY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"


@contextlib.contextmanager
def _file_lock(path: Path):
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _extract_zip(zip_path: Path, dest: Path) -> None:
    """Extract keeping the Unix modes stored in the zip (zipfile drops them)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = dest / info.filename
            if not str(target.resolve()).startswith(str(dest.resolve())):
                raise ESSandboxError(f"unsafe path in {zip_path}: {info.filename}")
            mode = (info.external_attr >> 16) & 0o7777
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if stat.S_ISLNK(info.external_attr >> 16):
                os.symlink(zf.read(info).decode(), target)
                continue
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            if mode:
                os.chmod(target, mode)
    # Directories: readable and traversable by the node's user.
    for dirpath, _dirs, _files in os.walk(dest):
        os.chmod(dirpath, 0o755)


def is_cached(version: str) -> bool:
    """Whether ``ensure_distribution`` finds the extracted distribution (or at least its zip):
    nothing to download from Maven Central."""
    base = cache_root() / version
    extracted = (base / ".extracted").exists() and (base / f"elasticsearch-{version}" / "bin" / "elasticsearch").exists()
    return extracted or (base / f"elasticsearch-{version}.zip").exists()


def ensure_distribution(version: str) -> Path:
    """Return the extracted Elasticsearch home for ``version``, fetching it if needed.

    Cached under ``${ORX_ES_CACHE:-~/.cache/orx-elastic/elasticsearch}/<version>/``
    (the zip and the extracted tree); reused when present.
    """
    major(version)
    base = cache_root() / version
    home = base / f"elasticsearch-{version}"
    marker = base / ".extracted"
    if marker.exists() and (home / "bin" / "elasticsearch").exists() and shim_current(home):
        return home
    with _file_lock(base / ".lock"):
        if marker.exists() and (home / "bin" / "elasticsearch").exists():
            install_analysis_shim(home, version)
            return home
        zip_path = base / f"elasticsearch-{version}.zip"
        if not zip_path.exists():
            _maven_fetch(version, base, zip_path)
        tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=base))
        try:
            try:
                _extract_zip(zip_path, tmp)
            except zipfile.BadZipFile as exc:
                zip_path.unlink()
                raise ESSandboxError(
                    f"{zip_path} is not a valid zip ({exc}); removed it, run again to re-download"
                ) from None
            extracted = tmp / f"elasticsearch-{version}"
            if not (extracted / "bin" / "elasticsearch").exists():
                raise ESSandboxError(f"{zip_path} has no elasticsearch-{version}/bin/elasticsearch")
            if home.exists():
                shutil.rmtree(home)
            extracted.rename(home)
            marker.write_text(version + "\n")
            install_analysis_shim(home, version)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return home


def _maven_fetch(version: str, base: Path, zip_path: Path) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise ESSandboxError(
            "cannot download Elasticsearch: `mvn` (Apache Maven) is not on PATH. "
            "Install it (e.g. `apt-get install -y maven`) or put "
            f"elasticsearch-{version}.zip (integ-test-zip) into {base}/"
        )
    out_dir = Path(tempfile.mkdtemp(prefix=".mvn-", dir=base))
    cmd = [
        mvn, "-B", "-q", MAVEN_COPY_PLUGIN,
        f"-Dartifact={MAVEN_ARTIFACT.format(version=version)}",
        f"-DoutputDirectory={out_dir}",
    ]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=900)
        got = out_dir / f"elasticsearch-{version}.zip"
        if proc.returncode != 0 or not got.exists():
            tail = "\n".join(proc.stdout.splitlines()[-30:])
            raise ESSandboxError(
                f"downloading Elasticsearch {version} with Maven failed "
                f"(exit {proc.returncode}): {' '.join(cmd)}\n{tail}"
            )
        os.replace(got, zip_path)
    except subprocess.TimeoutExpired:
        raise ESSandboxError(f"downloading Elasticsearch {version} with Maven timed out") from None
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
