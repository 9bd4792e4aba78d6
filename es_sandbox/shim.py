"""The small analysis module the `.security` index needs (API keys), built from Lucene's classes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from es_sandbox.common import ESSandboxError
from es_sandbox.java import find_javac

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


def shim_current(home: Path) -> bool:
    digest = hashlib.sha256(SHIM_SOURCE.encode()).hexdigest()[:16]
    return (home / "modules" / SHIM_NAME / f".built-{digest}").exists()


def install_analysis_shim(home: Path, version: str) -> None:
    digest = hashlib.sha256(SHIM_SOURCE.encode()).hexdigest()[:16]
    module = home / "modules" / SHIM_NAME
    stamp = module / f".built-{digest}"
    if stamp.exists():
        return
    javac = find_javac(version)
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
