package maven

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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

// TestOracle compares the order with Maven's own ComparableVersion on
// 200,000 random pairs of versions made of numbers, qualifiers and their
// aliases, odd letters and every separator. It needs javac and Maven's
// source of the class (ALICORN_MAVEN_COMPARABLEVERSION=path/to/
// ComparableVersion.java, from apache/maven's maven-3.9.16 tag:
// maven-artifact/src/main/java/org/apache/maven/artifact/versioning/),
// which CI does not have; it was run so for this package.
func TestOracle(t *testing.T) {
	src := os.Getenv("ALICORN_MAVEN_COMPARABLEVERSION")
	if src == "" {
		t.Skip("set ALICORN_MAVEN_COMPARABLEVERSION to Maven's ComparableVersion.java to compare with Maven itself")
	}
	if _, err := exec.LookPath("javac"); err != nil {
		t.Skip("needs javac (apt-get install default-jdk-headless)")
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "org/apache/maven/artifact/versioning")
	require.NoError(t, os.MkdirAll(pkg, 0o755))
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "ComparableVersion.java"), b, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Oracle.java"), []byte(oracle), 0o644))
	out, err := exec.Command("javac", "-d", filepath.Join(dir, "out"), filepath.Join(pkg, "ComparableVersion.java"),
		filepath.Join(dir, "Oracle.java")).CombinedOutput()
	require.NoError(t, err, "%s", out)

	r := rand.New(rand.NewPCG(7, 8))
	toks := []string{"0", "1", "2", "10", "00", "01", "123456789012345678901", "a", "b", "m", "alpha", "beta",
		"milestone", "rc", "cr", "snapshot", "SNAPSHOT", "ga", "final", "Final", "release", "RELEASE", "sp", "sp1",
		"x", "abc", "jre", "é", "", "pom"}
	seps := []string{".", "-", "", "_"}
	version := func() string {
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
	for range 200000 {
		pairs = append(pairs, [2]string{version(), version()})
	}
	ecosystemtest.Oracle(t, Ecosystem{}, "Maven", exec.Command("java", "-cp", filepath.Join(dir, "out"), "Oracle"), pairs)
}
