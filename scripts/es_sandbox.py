#!/usr/bin/env python3
"""A real Elasticsearch node (security on) for tests and for trying orx-elastic.

Nothing here imitates Elasticsearch: the node is the real server from the
``org.elasticsearch.distribution.integ-test-zip`` artifact on Maven Central
(the same zip Elasticsearch's own test clusters run), fetched with ``mvn``.

Used two ways:

* from Python (``tests/conftest.py``)::

      with ESNode("9.5.4", https=True) as node:
          client = node.admin_client()

* from the shell (``scripts/es-sandbox start|stop|status``): a detached node
  with sample OpenReplay-style logs loaded, for trying the tool by hand.

If a node cannot start, an ``ESSandboxError`` says why (no Java, no mvn,
download failed, node died: with the tail of its log).  Nothing is skipped.

Only the standard library is imported at module import time; ``bcrypt``,
``cryptography`` and ``elasticsearch`` are imported inside the functions
that need them.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import datetime as _dt
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional

__all__ = [
    "DEFAULT_VERSION",
    "TEST_VERSIONS",
    "ESSandboxError",
    "ESNode",
    "ensure_distribution",
    "find_java_home",
    "load_sample_logs",
    "SAMPLE_TOKEN",
    "SAMPLE_SESSION_ID",
    "main",
]

# Newest versions served by Maven Central when this was written.
DEFAULT_VERSION = "9.5.4"
TEST_VERSIONS = ("8.19.21", "9.5.4")

ADMIN_USER = "elastic-admin"
ES_SYSTEM_USER = "orx-es"  # the node's OS user when we run as root
MAVEN_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MAVEN_COPY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"
START_TIMEOUT = 120.0
LOG_TAIL_LINES = 30


class ESSandboxError(RuntimeError):
    """A node could not be fetched, started, reached or stopped."""


# --------------------------------------------------------------------------
# paths


def cache_root() -> Path:
    env = os.environ.get("ORX_ES_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "orx-elastic" / "elasticsearch"


def state_path() -> Path:
    """Where `start` records the running sandbox (ORX_ES_SANDBOX_STATE lets tests keep their own)."""
    env = os.environ.get("ORX_ES_SANDBOX_STATE")
    if env:
        return Path(env).expanduser()
    return cache_root() / "sandbox" / "state.json"


def _major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        raise ESSandboxError(f"not an Elasticsearch version: {version!r}") from None


# --------------------------------------------------------------------------
# distribution


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


def ensure_distribution(version: str) -> Path:
    """Return the extracted Elasticsearch home for ``version``, fetching it if needed.

    Cached under ``${ORX_ES_CACHE:-~/.cache/orx-elastic/elasticsearch}/<version>/``
    (the zip and the extracted tree); reused when present.
    """
    _major(version)
    base = cache_root() / version
    home = base / f"elasticsearch-{version}"
    marker = base / ".extracted"
    if marker.exists() and (home / "bin" / "elasticsearch").exists() and _shim_current(home):
        return home
    with _file_lock(base / ".lock"):
        if marker.exists() and (home / "bin" / "elasticsearch").exists():
            _install_analysis_shim(home, version)
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
            _install_analysis_shim(home, version)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return home


def _shim_current(home: Path) -> bool:
    import hashlib

    digest = hashlib.sha256(SHIM_SOURCE.encode()).hexdigest()[:16]
    return (home / "modules" / SHIM_NAME / f".built-{digest}").exists()


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


# --------------------------------------------------------------------------
# java


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
    need = 21 if _major(version) >= 9 else 17
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
        major = _java_major(c)
        if major is not None:
            found.append((major, c))
    ok = sorted((m, c) for m, c in found if m >= need)
    if not ok:
        have = ", ".join(f"{c} (Java {m})" for m, c in found) or "none"
        raise ESSandboxError(
            f"Elasticsearch {version} needs Java {need}+; found: {have}. "
            "Install one (e.g. `apt-get install -y openjdk-17-jre-headless` for 8.x, "
            "a Java 21+ JDK for 9.x) or set ORX_ES_JAVA_HOME."
        )
    return ok[0][1]


# --------------------------------------------------------------------------
# analysis components for the .security index
#
# The integ-test-zip lacks the `analysis-common` module, and it is not on Maven
# Central.  Elasticsearch's own `.security` index (where API keys, native
# users and roles live) declares an `email` analyzer built from
# `uax_url_email`, `pattern_capture` and `unique`, so without them
# `POST /_security/api_key` fails with "Unknown filter type [pattern_capture]".
# This tiny module registers those three names backed by the same Lucene
# classes analysis-common uses (UAX29URLEmailTokenizer,
# PatternCaptureGroupTokenFilter; `unique` as in Elasticsearch: drop a term
# seen earlier in the stream).  It is compiled with the JDK's javac against
# the distribution's own jars, once per version, and installed as
# modules/orx-analysis-shim.  Everything else is the real server.

SHIM_NAME = "orx-analysis-shim"
SHIM_SOURCE = """\
package orx.shim;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

public class OrxAnalysisShimPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("uax_url_email", (indexSettings, env, name, settings) -> {
            int maxTokenLength = settings.getAsInt("max_token_length", 255);
            return new TokenizerFactory() {
                public String name() { return name; }
                public Tokenizer create() {
                    UAX29URLEmailTokenizer t = new UAX29URLEmailTokenizer();
                    t.setMaxTokenLength(maxTokenLength);
                    return t;
                }
            };
        });
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "pattern_capture", (indexSettings, env, name, settings) -> {
                List<String> regexes = settings.getAsList("patterns");
                boolean preserve = settings.getAsBoolean("preserve_original", true);
                List<Pattern> patterns = new ArrayList<>();
                for (String r : regexes) patterns.add(Pattern.compile(r));
                Pattern[] array = patterns.toArray(new Pattern[0]);
                return new TokenFilterFactory() {
                    public String name() { return name; }
                    public TokenStream create(TokenStream in) {
                        return new PatternCaptureGroupTokenFilter(in, preserve, array);
                    }
                };
            },
            "unique", (indexSettings, env, name, settings) -> new TokenFilterFactory() {
                public String name() { return name; }
                public TokenStream create(TokenStream in) { return new Unique(in); }
            });
    }

    static final class Unique extends TokenFilter {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
        private final CharArraySet seen = new CharArraySet(8, false);

        Unique(TokenStream in) { super(in); }

        @Override
        public boolean incrementToken() throws IOException {
            while (input.incrementToken()) {
                char[] copy = new char[term.length()];
                System.arraycopy(term.buffer(), 0, copy, 0, copy.length);
                if (!seen.contains(copy, 0, copy.length)) {
                    seen.add(copy);
                    return true;
                }
            }
            return false;
        }

        @Override
        public void reset() throws IOException {
            super.reset();
            seen.clear();
        }
    }
}
"""


def _find_javac(version: str) -> Path:
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


def _install_analysis_shim(home: Path, version: str) -> None:
    import hashlib

    digest = hashlib.sha256(SHIM_SOURCE.encode()).hexdigest()[:16]
    module = home / "modules" / SHIM_NAME
    stamp = module / f".built-{digest}"
    if stamp.exists():
        return
    javac = _find_javac(version)
    build = Path(tempfile.mkdtemp(prefix=".shim-", dir=home.parent))
    try:
        src = build / "src" / "orx" / "shim" / "OrxAnalysisShimPlugin.java"
        src.parent.mkdir(parents=True)
        src.write_text(SHIM_SOURCE)
        classes = build / "classes"
        classes.mkdir()
        proc = subprocess.run(
            [str(javac), "--release", "17", "-nowarn", "-cp", str(home / "lib" / "*"),
             "-d", str(classes), str(src)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        if proc.returncode != 0:
            raise ESSandboxError(f"compiling the analysis module failed:\n{proc.stdout[-3000:]}")
        out = build / "module"
        out.mkdir()
        with zipfile.ZipFile(out / f"{SHIM_NAME}.jar", "w", zipfile.ZIP_DEFLATED) as jar:
            jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n\n")
            for f in sorted(classes.rglob("*.class")):
                jar.write(f, f.relative_to(classes).as_posix())
        (out / "plugin-descriptor.properties").write_text(
            "description=uax_url_email, pattern_capture and unique for the .security index "
            "(the test distribution lacks analysis-common)\n"
            f"version={version}\n"
            f"name={SHIM_NAME}\n"
            "classname=orx.shim.OrxAnalysisShimPlugin\n"
            "java.version=17\n"
            f"elasticsearch.version={version}\n"
        )
        (out / f".built-{digest}").write_text(digest + "\n")
        for f in out.iterdir():
            os.chmod(f, 0o644)
        os.chmod(out, 0o755)
        if module.exists():
            shutil.rmtree(module)
        out.rename(module)
    finally:
        shutil.rmtree(build, ignore_errors=True)



# --------------------------------------------------------------------------
# OS user when running as root


def _ensure_system_user() -> tuple:
    import pwd

    try:
        pw = pwd.getpwnam(ES_SYSTEM_USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        proc = subprocess.run(
            [useradd, "--system", "--no-create-home", "--user-group",
             "--shell", "/usr/sbin/nologin", ES_SYSTEM_USER],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        if proc.returncode not in (0, 9):  # 9: exists (race with another process)
            raise ESSandboxError(
                f"Elasticsearch refuses to run as root and creating user {ES_SYSTEM_USER!r} "
                f"failed: {proc.stdout.strip()}"
            )
        pw = pwd.getpwnam(ES_SYSTEM_USER)
    return pw.pw_uid, pw.pw_gid


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link (or copy, across filesystems) a distribution tree."""
    same_fs = os.stat(src).st_dev == os.stat(dst.parent).st_dev

    def copy(s, d):
        if same_fs:
            try:
                os.link(s, d)
                return d
            except OSError:
                pass
        return shutil.copy2(s, d)

    shutil.copytree(src, dst, symlinks=True, copy_function=copy)
    for dirpath, _dirs, _files in os.walk(dst):
        os.chmod(dirpath, 0o755)


# --------------------------------------------------------------------------
# certificates


def _write_certificates(config_dir: Path) -> Dict[str, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = _dt.datetime.now(_dt.timezone.utc)
    start = now - _dt.timedelta(days=1)
    end = now + _dt.timedelta(days=30)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orx-elastic test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    certs = config_dir / "certs"
    certs.mkdir()
    pem = serialization.Encoding.PEM
    (certs / "ca.crt").write_bytes(ca_cert.public_bytes(pem))
    (certs / "http.crt").write_bytes(cert.public_bytes(pem))
    (certs / "http.key").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return {
        "ca_path": certs / "ca.crt",
        # As Elasticsearch prints it: SHA-256 of the DER certificate, lower-case hex.
        "fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
        "ca_fingerprint": ca_cert.fingerprint(hashes.SHA256()).hex(),
    }


# --------------------------------------------------------------------------
# process cleanup


_LIVE: "set[ESNode]" = set()
_LIVE_LOCK = threading.Lock()
_HANDLERS_INSTALLED = False


def _stop_all() -> None:
    with _LIVE_LOCK:
        nodes = list(_LIVE)
    for node in nodes:
        try:
            node.stop()
        except Exception as exc:  # pragma: no cover - best effort at exit
            print(f"es_sandbox: stopping {node!r} failed: {exc}", file=sys.stderr)


def _install_handlers() -> None:
    """atexit + SIGTERM/SIGINT/SIGHUP: never leave a node behind."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(_stop_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        previous = signal.getsignal(signum)

        def handler(sig, frame, _previous=previous):
            _stop_all()
            if callable(_previous):
                return _previous(sig, frame)
            if _previous == signal.SIG_IGN:
                return None
            if sig == signal.SIGINT:
                raise KeyboardInterrupt
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)

        try:
            signal.signal(signum, handler)
        except (ValueError, OSError):  # pragma: no cover
            pass


def _child_preexec(uid: Optional[int], gid: Optional[int], die_with_parent: bool):
    """Runs in the child between fork and exec: drop root, then ask for a death signal.

    The order matters: changing credentials clears PR_SET_PDEATHSIG, so it is
    set after setuid; and ``prctl`` is looked up before the fork, because after
    setuid the child may not be able to import anything (a Python under /root).
    """

    prctl = None
    if die_with_parent:
        # Resolved here, in the parent: after setuid the child may not be able
        # to import anything (e.g. a Python under /root, which is 0700).
        try:
            import ctypes

            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            prctl = None
    kill = int(signal.SIGKILL)

    def preexec():
        if gid is not None:
            os.setgroups([])
            os.setgid(gid)
        if uid is not None:
            os.setuid(uid)
        if prctl is not None:
            prctl(1, kill, 0, 0, 0)  # PR_SET_PDEATHSIG

    return preexec


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _kill_group(pgid: int, grace: float = 20.0) -> None:
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        # reap our own child if it is one, so it does not linger as a zombie
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(-pgid, os.WNOHANG)
        if not _group_alive(pgid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(pgid):
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(-pgid, os.WNOHANG)
        time.sleep(0.1)


def _group_is_ours(pgid: int, workdir: str) -> bool:
    """True when some process of group ``pgid`` runs with ``workdir`` in its command line."""
    proc = Path("/proc")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            env = b""
            with contextlib.suppress(OSError):
                env = (entry / "environ").read_bytes()
            if workdir in cmd or workdir.encode() in env:
                return True
        except (OSError, IndexError, ValueError):
            continue
    return False


def sweep_stale_workdirs(min_age: float = 120.0) -> List[str]:
    """Remove ``orx-es-*`` temp dirs left by a process killed with SIGKILL.

    Only dirs that record a pid (``es.pid``) whose process group is gone and
    that were not touched for ``min_age`` seconds: never a starting node's.
    """
    removed = []
    now = time.time()
    for d in Path(tempfile.gettempdir()).glob("orx-es-*"):
        pid_file = d / "es.pid"
        try:
            if not d.is_dir() or now - d.stat().st_mtime < min_age or not pid_file.exists():
                continue
            pgid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        # alive but not ours: the pid was reused, the node is gone all the same
        if not _group_alive(pgid) or not _group_is_ours(pgid, str(d)):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(str(d))
    return removed


# --------------------------------------------------------------------------
# the node


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        data = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data[-lines:]) if data else f"(empty log {path})"


class AdminAccess:
    """Admin requests to a cluster; needs url, https, admin_user, admin_password, ca_path.

    Shared by ESNode and by the tests' ExternalNode (a cluster the developer already runs).
    """

    url: str
    https: bool
    admin_user: str
    admin_password: str
    ca_path: Optional[Path]

    def ssl_context(self) -> Optional[ssl.SSLContext]:
        if not self.https:
            return None
        return ssl.create_default_context(cafile=str(self.ca_path) if self.ca_path else None)

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30):
        """Plain urllib request with admin basic auth: returns (status, text)."""
        data = None
        headers = {
            "Authorization": "Basic " + base64.b64encode(
                f"{self.admin_user}:{self.admin_password}".encode()).decode(),
        }
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context()) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def admin_client(self, **kwargs):
        """An ``elasticsearch.Elasticsearch`` client with the admin's basic auth."""
        from elasticsearch import Elasticsearch

        kw: Dict[str, Any] = {"basic_auth": (self.admin_user, self.admin_password),
                              "request_timeout": 30}
        if self.ca_path:
            kw["ca_certs"] = str(self.ca_path)
        kw.update(kwargs)
        return Elasticsearch(self.url, **kw)



class ESNode(AdminAccess):
    """One single-node Elasticsearch cluster with security on, in its own temp dir.

    Attributes (valid after ``start()``): ``version``, ``url``, ``scheme``,
    ``host``, ``port``, ``admin_user``, ``admin_password``, ``ca_path`` and
    ``fingerprint`` (``None`` over HTTP; ``fingerprint`` is the SHA-256 of the
    node's HTTP certificate in lower-case hex, as Elasticsearch prints it),
    ``ca_fingerprint``, ``workdir``, ``log_path`` (the node's console output),
    ``pid``, ``pgid``.
    """

    def __init__(
        self,
        version: str = DEFAULT_VERSION,
        https: bool = False,
        *,
        detach: bool = False,
        start_timeout: float = START_TIMEOUT,
        heap: str = "512m",
        extra_settings: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.version = version
        self.https = https
        self.scheme = "https" if https else "http"
        self.host = "127.0.0.1"
        self.port: Optional[int] = None
        self.url: Optional[str] = None
        self.admin_user = ADMIN_USER
        self.admin_password = secrets.token_urlsafe(18)
        self.ca_path: Optional[Path] = None
        self.fingerprint: Optional[str] = None
        self.ca_fingerprint: Optional[str] = None
        self.workdir: Optional[Path] = None
        self.log_path: Optional[Path] = None
        self.pid: Optional[int] = None
        self.pgid: Optional[int] = None
        self.java_home: Optional[Path] = None
        self.start_seconds: Optional[float] = None
        self._detach = detach
        self._timeout = start_timeout
        self._heap = heap
        self._extra = dict(extra_settings or {})
        self._proc: Optional[subprocess.Popen] = None

    def __repr__(self) -> str:
        return f"<ESNode {self.version} {self.url or 'not started'}>"

    # context manager
    def __enter__(self) -> "ESNode":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- start
    def settings(self) -> Dict[str, Any]:
        s: Dict[str, Any] = {
            "cluster.name": "orx-sandbox",
            "node.name": "orx-node",
            "discovery.type": "single-node",
            "network.host": self.host,
            "http.port": 0,
            "transport.port": 0,
            "node.portsfile": True,
            "path.data": str(self.workdir / "data"),
            "path.logs": str(self.workdir / "logs"),
            "xpack.security.enabled": True,
            "xpack.security.http.ssl.enabled": self.https,
            "xpack.security.transport.ssl.enabled": False,
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": False,
        }
        if self.https:
            s.update({
                "xpack.security.http.ssl.certificate": "certs/http.crt",
                "xpack.security.http.ssl.key": "certs/http.key",
                "xpack.security.http.ssl.certificate_authorities": ["certs/ca.crt"],
            })
        s.update(self._extra)
        return s

    def start(self) -> "ESNode":
        if self._proc is not None or self.pgid is not None:
            raise ESSandboxError(f"{self!r} already started")
        t0 = time.monotonic()
        _install_handlers()
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        if self._detach:
            with _LIVE_LOCK:
                _LIVE.discard(self)
        return self

    def _start(self) -> None:
        import bcrypt  # noqa: F401  (fail early, before the download, if missing)

        home = ensure_distribution(self.version)
        self.java_home = find_java_home(self.version)
        as_root = os.geteuid() == 0
        uid = gid = None
        if as_root:
            uid, gid = _ensure_system_user()

        with contextlib.suppress(OSError):
            sweep_stale_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"orx-es-{self.version}-"))
        wd = self.workdir
        if as_root:
            # /root is 0700: the node's user could not read the cache there.
            _link_tree(home, wd / "dist")
            home = wd / "dist"
        config = wd / "config"
        shutil.copytree(ensure_distribution(self.version) / "config", config)
        for sub in ("data", "logs", "tmp"):
            (wd / sub).mkdir()
        if self.https:
            certs = _write_certificates(config)
            self.ca_path = certs["ca_path"]
            self.fingerprint = certs["fingerprint"]
            self.ca_fingerprint = certs["ca_fingerprint"]
        (config / "elasticsearch.yml").write_text(
            "# written by orx-elastic scripts/es_sandbox.py\n"
            + "".join(f"{k}: {json.dumps(v)}\n" for k, v in self.settings().items())
        )
        pw_hash = bcrypt.hashpw(self.admin_password.encode(), bcrypt.gensalt(rounds=10)).decode()
        pw_hash = "$2a$" + pw_hash[4:]  # Elasticsearch's file realm expects $2a$
        (config / "users").write_text(f"{self.admin_user}:{pw_hash}\n")
        (config / "users_roles").write_text(f"superuser:{self.admin_user}\n")
        self.log_path = wd / "logs" / "console.log"
        self.log_path.touch()
        if as_root:
            _chown_tree(config, uid, gid)
            for sub in ("data", "logs", "tmp"):
                _chown_tree(wd / sub, uid, gid)
            os.chown(wd, uid, gid)
            os.chmod(wd, 0o750)
        else:
            os.chmod(wd, 0o700)

        env = {
            k: v for k, v in os.environ.items()
            if k not in ("JAVA_HOME", "ES_JAVA_OPTS", "ES_HOME", "ES_PATH_CONF", "CLI_JAVA_OPTS",
                         "ES_JAVA_HOME", "ES_TMPDIR")
        }
        env.update({
            "ES_JAVA_HOME": str(self.java_home),
            "ES_PATH_CONF": str(config),
            "ES_TMPDIR": str(wd / "tmp"),
            "ES_JAVA_OPTS": f"-Xms{self._heap} -Xmx{self._heap}",
            "HOME": str(wd),
            "ORX_ES_WORKDIR": str(wd),  # lets `stop` recognise the process group
        })
        popen_kw: Dict[str, Any] = dict(
            cwd=str(wd / "logs"),  # gc.log, hs_err files land here
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() kills all of it
        )
        # Not detached: if this process is killed (even with SIGKILL), the
        # launcher gets SIGKILL and the server exits when its stdin closes.
        popen_kw["preexec_fn"] = _child_preexec(uid, gid, die_with_parent=not self._detach)
        with open(self.log_path, "ab") as log:
            try:
                self._proc = subprocess.Popen(
                    [str(home / "bin" / "elasticsearch")],
                    stdout=log, stderr=subprocess.STDOUT, **popen_kw,
                )
            except OSError as exc:
                raise ESSandboxError(f"could not start {home / 'bin' / 'elasticsearch'}: {exc}") from None
        self.pid = self.pgid = self._proc.pid
        (wd / "es.pid").write_text(f"{self.pid}\n")
        self._wait_ready(home)

    def _fail(self, why: str) -> ESSandboxError:
        return ESSandboxError(
            f"Elasticsearch {self.version} ({'https' if self.https else 'http'}) {why}.\n"
            f"Java: {self.java_home}; workdir: {self.workdir}\n"
            f"--- last {LOG_TAIL_LINES} lines of {self.log_path} ---\n{_tail(self.log_path)}"
        )

    def _wait_ready(self, home: Path) -> None:
        deadline = time.monotonic() + self._timeout
        ports = self.workdir / "logs" / "http.ports"
        while True:
            if self._proc.poll() is not None:
                raise self._fail(f"exited with code {self._proc.returncode} while starting")
            if ports.exists():
                text = ports.read_text().strip()
                if text:
                    addr = text.splitlines()[0]
                    self.port = int(addr.rsplit(":", 1)[1])
                    self.url = f"{self.scheme}://{self.host}:{self.port}"
                    break
            if time.monotonic() > deadline:
                raise self._fail(f"did not write {ports} within {self._timeout:.0f}s")
            time.sleep(0.1)
        last_error = ""
        while True:
            if self._proc.poll() is not None:
                raise self._fail(f"exited with code {self._proc.returncode} while starting")
            try:
                status, body = self.request(
                    "GET", "/_cluster/health?wait_for_status=yellow&timeout=5s", timeout=10)
                if status == 200 and json.loads(body).get("status") in ("yellow", "green"):
                    return
                last_error = f"HTTP {status}: {body[:300]!r}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last_error = repr(exc)
            if time.monotonic() > deadline:
                raise self._fail(
                    f"did not answer GET /_cluster/health within {self._timeout:.0f}s "
                    f"(last: {last_error})")
            time.sleep(0.25)

    # ------------------------------------------------------------- requests
    # ----------------------------------------------------------------- stop
    def stop(self) -> None:
        """Kill the node's process group (TERM, then KILL) and remove its workdir."""
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if self.pgid is not None:
            _kill_group(self.pgid)
            if self._proc is not None:
                with contextlib.suppress(Exception):
                    self._proc.wait(timeout=5)
            self.pgid = None
        self._proc = None
        if self.workdir is not None and self.workdir.exists():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def state(self) -> Dict[str, Any]:
        return {
            "version": self.version,
            "pid": self.pid,
            "pgid": self.pgid,
            "url": self.url,
            "user": self.admin_user,
            "password": self.admin_password,
            "ca": str(self.ca_path) if self.ca_path else None,
            "fingerprint": self.fingerprint,
            "workdir": str(self.workdir),
            "log": str(self.log_path),
        }


# --------------------------------------------------------------------------
# sample data

# The token from OpenReplay's own tests: session 2618307011354435587 (base36
# "jw4wdfpgqhoj"), delay 4283 ms, expiry 2024-01-24T04:27:39.324Z.
SAMPLE_TOKEN = "jw4wdfpgqhoj.3az.lrraavgc.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q"
SAMPLE_SESSION_ID = 2618307011354435587
# A second session (same format; base36 "jw4wdfpgql0n"), negative delay: the token has a "-".
SAMPLE_TOKEN_2 = "jw4wdfpgql0n.-1k.lrrcg18c.5Hq1W9dVgXk3Zr8ZtB8YbD4pE7sLmN2aQw6cJfRuT3x"
SAMPLE_SESSION_ID_2 = 2618307011354439911
SAMPLE_INDEX = "app-logs"
SAMPLE_INDEX_V121 = "logs"  # OpenReplay v1.21+ hard-codes this index
SAMPLE_MAPPING = {
    "properties": {
        "message": {"type": "text"},
        "utc_time": {"type": "date"},
        "tags": {"type": "keyword"},
    }
}

_STACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/shop/api/views.py", line 88, in checkout\n'
    "    order = cart.to_order(user)\n"
    '  File "/srv/shop/api/cart.py", line 41, in to_order\n'
    "    total = sum(item.price * item.qty for item in self.items)\n"
    "TypeError: unsupported operand type(s) for *: 'NoneType' and 'int'"
)


def sample_documents() -> Dict[str, List[Dict[str, Any]]]:
    """The sample logs by index.  Times are in the session window before the token expiry."""
    t1 = SAMPLE_TOKEN
    s1 = SAMPLE_SESSION_ID
    t2 = SAMPLE_TOKEN_2
    s2 = SAMPLE_SESSION_ID_2

    def at(minute: int, second: int = 0) -> str:
        return f"2024-01-24T03:{minute:02d}:{second:02d}.000Z"

    app = [
        (at(50, 1), ["info"], f"GET /api/cart 200 12ms openReplaySessionToken={t1}"),
        (at(50, 5), ["success"], f"POST /api/cart/items 201 30ms openReplaySessionToken={t1}"),
        (at(51, 12), ["error"], f"POST /api/checkout 500 openReplaySessionToken={t1}\n{_STACK}"),
        (at(51, 13), ["error"], f"payment gateway timeout after 3000ms openReplaySessionToken={t1}"),
        (at(52, 0), ["error"], f"ERROR orders: could not reserve stock openReplaySession.id={s1}"),
        (at(52, 30), ["info"], f"INFO user logged out openReplaySession.id={s1}"),
        (at(53, 0), ["error"], f"GET /api/profile 502 upstream reset openReplaySessionToken={t2}"),
        (at(53, 5), ["info"], f"GET /api/profile 200 8ms openReplaySessionToken={t2}"),
        (at(53, 9), ["error"], f"ERROR search: index not found openReplaySession.id={s2}"),
        (at(54, 0), ["info"], "INFO worker heartbeat ok"),
        (at(54, 1), ["error"], "ERROR cron: nightly export failed (no session)"),
        (at(54, 2), ["success"], "GET /healthz 200 1ms"),
    ]
    logs = [
        (at(51, 20), ["error"], f"ERROR checkout failed: card declined openReplaySession.id={s1}"),
        (at(51, 21), ["info"], f"INFO retrying checkout openReplaySession.id={s1}"),
        (at(51, 22), ["error"], f"POST /api/checkout 500 openReplaySessionToken={t1}"),
        (at(53, 10), ["error"], f"ERROR profile: avatar upload failed openReplaySession.id={s2}"),
        (at(54, 3), ["info"], "INFO cache warmed"),
    ]

    def docs(rows):
        return [{"utc_time": t, "tags": tags, "message": m} for t, tags, m in rows]

    return {SAMPLE_INDEX: docs(app), SAMPLE_INDEX_V121: docs(logs)}


def load_sample_logs(client, app_index: str = SAMPLE_INDEX,
                     v121_index: str = SAMPLE_INDEX_V121) -> Dict[str, int]:
    """Create ``app-logs`` and ``logs`` (if missing), index the sample logs, refresh.

    ``client`` is an ``elasticsearch.Elasticsearch`` client allowed to create
    indices.  Other index names can be given (tests sharing a node should use
    their own).  Returns the number of documents indexed per index.
    """
    counts = {}
    names = {SAMPLE_INDEX: app_index, SAMPLE_INDEX_V121: v121_index}
    for default_name, documents in sample_documents().items():
        index = names[default_name]
        if not client.indices.exists(index=index):
            client.indices.create(
                index=index, mappings=SAMPLE_MAPPING,
                settings={"number_of_shards": 1, "number_of_replicas": 0},
            )
        operations: List[Dict[str, Any]] = []
        for i, doc in enumerate(documents):
            operations.append({"index": {"_index": index, "_id": f"sample-{i}"}})
            operations.append(doc)
        resp = client.bulk(operations=operations, refresh=True)
        if resp.get("errors"):
            bad = [it for it in resp["items"] if "error" in next(iter(it.values()))]
            raise ESSandboxError(f"loading sample logs into {index} failed: {bad[:3]}")
        counts[index] = len(documents)
    client.indices.refresh(index=",".join(counts))
    return counts


# --------------------------------------------------------------------------
# CLI


def _read_state() -> Optional[Dict[str, Any]]:
    p = state_path()
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except ValueError:
        return None


def _write_state(state: Dict[str, Any]) -> None:
    p = state_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)


def _state_alive(state: Dict[str, Any]) -> bool:
    pgid = state.get("pgid")
    return bool(pgid) and _group_alive(pgid) and _group_is_ours(pgid, state.get("workdir") or "")


def _print_next_steps(state: Dict[str, Any]) -> None:
    url, user, pw, ca = state["url"], state["user"], state["password"], state.get("ca")
    ca_opt = f" --ca-certs {ca}" if ca else ""
    print(f"Elasticsearch {state['version']} is running (security on)")
    print(f"  URL:       {url}")
    print(f"  admin:     {user}")
    print(f"  password:  {pw}")
    if ca:
        print(f"  CA:        {ca}")
        print(f"  cert SHA-256 fingerprint: {state.get('fingerprint')}")
    print(f"  log:       {state.get('log')}")
    print(f"  sample logs in indices {SAMPLE_INDEX!r} and {SAMPLE_INDEX_V121!r}")
    print()
    print("Try:")
    print(f"  curl{' --cacert ' + ca if ca else ''} -u '{user}:{pw}' '{url}/_cluster/health?pretty'")
    print(f"  orx-elastic create-key --host {url} --username {user} --password '{pw}'{ca_opt} --save")
    print("  orx-elastic check")
    print(f"  orx-elastic logs {SAMPLE_TOKEN}")
    print(f"  orx-elastic logs {SAMPLE_SESSION_ID}")
    print()
    prog = os.environ.get("ORX_ES_SANDBOX_PROG") or f"python3 {sys.argv[0]}"
    print(f"Status: {prog} status    Stop: {prog} stop")


def _cmd_start(args) -> int:
    state = _read_state()
    if state and _state_alive(state):
        print("A sandbox node is already running (stop it first to change version or --https).")
        _print_next_steps(state)
        return 0
    if state:
        _cleanup_state(state)
    node = ESNode(args.version, https=args.https, detach=True)
    print(f"Starting Elasticsearch {args.version} ({node.scheme}) ...", flush=True)
    try:
        node.start()
    except ESSandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        client = node.admin_client()
        counts = load_sample_logs(client)
        client.close()
    except BaseException:
        node.stop()
        raise
    state = node.state()
    _write_state(state)
    print(f"Started in {node.start_seconds:.1f}s; loaded {counts}")
    print()
    _print_next_steps(state)
    return 0


def _cleanup_state(state: Dict[str, Any]) -> None:
    wd = state.get("workdir") or ""
    pgid = state.get("pgid")
    if pgid and _group_alive(pgid) and _group_is_ours(pgid, wd):
        _kill_group(pgid)
    if wd and os.path.basename(wd).startswith("orx-es-") and os.path.isdir(wd):
        shutil.rmtree(wd, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        state_path().unlink()


def _cmd_stop(args) -> int:
    state = _read_state()
    if not state:
        print("No sandbox node recorded (nothing to stop).")
        return 0
    alive = _state_alive(state)
    _cleanup_state(state)
    print("Stopped the sandbox node and removed its files." if alive
          else "The recorded node was not running; removed its files.")
    return 0


def _cmd_status(args) -> int:
    state = _read_state()
    if not state:
        print("No sandbox node recorded.")
        return 1
    if not _state_alive(state):
        print(f"The recorded node ({state.get('url')}) is not running. Run `stop` to clean up.")
        return 1
    node = ESNode(state["version"], https=state["url"].startswith("https"))
    node.url, node.admin_password = state["url"], state["password"]
    node.ca_path = Path(state["ca"]) if state.get("ca") else None
    try:
        status, body = node.request("GET", "/_cluster/health", timeout=10)
        health = json.loads(body).get("status") if status == 200 else f"HTTP {status}"
    except (OSError, ValueError) as exc:
        health = f"unreachable ({exc})"
    print(f"cluster health: {health}")
    _print_next_steps(state)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="es-sandbox",
        description="A real Elasticsearch node (security on) with sample OpenReplay logs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="start a detached node and load sample logs")
    p.add_argument("--version", default=DEFAULT_VERSION,
                   help=f"Elasticsearch version (default {DEFAULT_VERSION})")
    p.add_argument("--https", action="store_true", help="serve HTTPS with a generated CA")
    p.set_defaults(func=_cmd_start)
    p = sub.add_parser("stop", help="stop the node and remove its files")
    p.set_defaults(func=_cmd_stop)
    p = sub.add_parser("status", help="show the running node")
    p.set_defaults(func=_cmd_status)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ESSandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
