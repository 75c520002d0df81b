package maven

import (
	"archive/zip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/ecosystems/ecosystemtest"
)

// oracle is a Java program that compares version pairs (one "a\tb" per
// line) with Maven's ComparableVersion and prints the signs.
const oracle = `import org.apache.maven.artifact.versioning.ComparableVersion;
import java.io.*;

public class Oracle {
    public static void main(String[] args) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintWriter w = new PrintWriter(new OutputStreamWriter(System.out, "UTF-8"));
        for (String line; (line = r.readLine()) != null; ) {
            String[] p = line.split("\t", 2);
            w.println(Integer.signum(new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]))));
        }
        w.flush();
    }
}
`

// mavenArtifactJars are where Debian's maven package puts the jar that
// holds ComparableVersion.
var mavenArtifactJars = []string{"/usr/share/maven/lib/maven-artifact-3.x.jar", "/usr/share/java/maven3-artifact.jar"}

// TestOracle compares the order with Maven's own ComparableVersion on
// 200,000 random pairs of versions made of numbers, qualifiers and their
// aliases, odd letters and every separator, and on Maven's test versions.
// Maven is, in this order of preference: the source of the class named by
// ALICORN_MAVEN_COMPARABLEVERSION (from apache/maven's maven-3.9.16 tag:
// maven-artifact/src/main/java/org/apache/maven/artifact/versioning/), the
// jar named by ALICORN_MAVEN_ARTIFACT_JAR, or Debian's maven package's
// maven-artifact jar (apt-get install maven: 3.8.7 in bookworm), which
// orders a few pairs otherwise than 3.9 (mavenDifferences). It needs javac
// (default-jdk-headless, which maven pulls in).
func TestOracle(t *testing.T) {
	if _, err := exec.LookPath("javac"); err != nil {
		t.Skip("needs javac (apt-get install maven default-jdk-headless)")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	var classpath, version string
	if src := os.Getenv("ALICORN_MAVEN_COMPARABLEVERSION"); src != "" {
		pkg := filepath.Join(dir, "org/apache/maven/artifact/versioning")
		require.NoError(t, os.MkdirAll(pkg, 0o755))
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(pkg, "ComparableVersion.java"), b, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Oracle.java"), []byte(oracle), 0o644))
		b, err = exec.Command("javac", "-d", out, filepath.Join(pkg, "ComparableVersion.java"),
			filepath.Join(dir, "Oracle.java")).CombinedOutput()
		require.NoError(t, err, "%s", b)
		classpath, version = out, "source"
	} else {
		jar := os.Getenv("ALICORN_MAVEN_ARTIFACT_JAR")
		for _, j := range mavenArtifactJars {
			if _, err := os.Stat(j); jar == "" && err == nil {
				jar = j
			}
		}
		if jar == "" {
			t.Skip("needs Maven's ComparableVersion: apt-get install maven, or set ALICORN_MAVEN_ARTIFACT_JAR " +
				"(a maven-artifact jar) or ALICORN_MAVEN_COMPARABLEVERSION (its ComparableVersion.java)")
		}
		var err error
		version, err = jarVersion(jar)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Oracle.java"), []byte(oracle), 0o644))
		b, err := exec.Command("javac", "-cp", jar, "-d", out, filepath.Join(dir, "Oracle.java")).CombinedOutput()
		require.NoError(t, err, "%s", b)
		classpath = out + string(os.PathListSeparator) + jar
	}
	t.Logf("Maven's ComparableVersion: %s", version)

	r := rand.New(rand.NewPCG(7, 8))
	toks := []string{"0", "1", "2", "10", "00", "01", "123456789012345678901", "a", "b", "m", "alpha", "beta",
		"milestone", "rc", "cr", "snapshot", "SNAPSHOT", "ga", "final", "Final", "release", "RELEASE", "sp", "sp1",
		"x", "abc", "jre", "é", "", "pom"}
	seps := []string{".", "-", "", "_"}
	version1 := func() string {
		var s strings.Builder
		for i := range 1 + r.IntN(6) {
			if i > 0 {
				s.WriteString(seps[r.IntN(len(seps))])
			}
			s.WriteString(toks[r.IntN(len(toks))])
		}
		return s.String()
	}
	var pairs [][2]string
	for _, list := range [][]string{versionsQualifier, versionsNumber} {
		for _, a := range list {
			for _, b := range list {
				pairs = append(pairs, [2]string{a, b})
			}
		}
	}
	for _, list := range [][][2]string{versionsEqual, versionsOrder} {
		for _, p := range list {
			pairs = append(pairs, p, [2]string{p[1], p[0]})
		}
	}
	for range 200000 {
		pairs = append(pairs, [2]string{version1(), version1()})
	}
	// The pairs this Maven is known to order otherwise than 3.9.16 are
	// checked apart: it still does, and we order them as 3.9.16.
	var known [][2]string
	for prefix, diffs := range mavenDifferences {
		if !strings.HasPrefix(version, prefix) {
			continue
		}
		pairs = slices.DeleteFunc(pairs, func(p [2]string) bool { _, ok := diffs[p]; return ok })
		for p, theirs := range diffs {
			known = append(known, p)
			assert.Equal(t, -theirs, Compare(p[0], p[1]), "%q vs %q: ours, as Maven 3.9", p[0], p[1])
		}
		if len(known) > 0 {
			cmd := exec.Command("java", "-cp", classpath, "Oracle")
			var in strings.Builder
			for _, p := range known {
				fmt.Fprintf(&in, "%s\t%s\n", p[0], p[1])
			}
			cmd.Stdin = strings.NewReader(in.String())
			b, err := cmd.Output()
			require.NoError(t, err)
			answers := strings.Fields(string(b))
			require.Len(t, answers, len(known))
			for i, p := range known {
				assert.Equal(t, fmt.Sprint(diffs[p]), answers[i], "%q vs %q: Maven %s, as listed", p[0], p[1], version)
			}
			t.Logf("%d pairs known to differ in Maven %s: as listed", len(known), version)
		}
	}
	ecosystemtest.Oracle(t, Ecosystem{}, "Maven "+version, exec.Command("java", "-cp", classpath, "Oracle"), pairs)
}

// mavenDifferences are the pairs that older Mavens, by version prefix,
// order otherwise than maven-3.9.16 (and we): each with that Maven's
// answer (the sign of a compared with b).
var mavenDifferences = map[string]map[[2]string]int{
	// Debian bookworm's maven (3.8.7) reads any Unicode digit
	// (Character.isDigit) as a number, 3.9 only ASCII ones: ARABIC-INDIC
	// DIGIT EIGHT is 8 there, and a letter in 3.9, below every number (as
	// 3.9.16's ComparableVersionTest has it: versionsOrder in
	// version_test.go).
	"3.8.": {{"\u0668", "1"}: 1, {"1", "\u0668"}: -1},
}

// jarVersion reads a jar's Implementation-Version.
func jarVersion(jar string) (string, error) {
	zr, err := zip.OpenReader(jar)
	if err != nil {
		return "", fmt.Errorf("%s: %w", jar, err)
	}
	defer zr.Close()
	f, err := zr.Open("META-INF/MANIFEST.MF")
	if err != nil {
		return "", fmt.Errorf("%s: %w", jar, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return "", fmt.Errorf("%s: %w", jar, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Implementation-Version:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: no Implementation-Version in its manifest", jar)
}
