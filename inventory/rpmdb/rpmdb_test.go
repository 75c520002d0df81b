package rpmdb

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shared is the read-only directory of real rpm databases beside the
// repository (the project workspace's shared/testdata/rpmdb).
const shared = "../../../shared/testdata/rpmdb"

// sharedDir returns shared, or skips the test when it is not there (a
// clone outside the project workspace).
func sharedDir(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("the shared rpm databases are not at %s (they come with the project workspace)", shared)
	}
	return shared
}

// copyDB copies a database into a writable temporary directory under the
// name rpm expects, since rpm (and SQLite) write files beside it.
func copyDB(t *testing.T, src, name string) string {
	t.Helper()
	dir := t.TempDir()
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(filepath.Join(dir, name))
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	return dir
}

const qf = "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{VENDOR}|%{LICENSE}|%{MODULARITYLABEL}|%{SIZE}|%{INSTALLTIME}|%{SIGMD5}\\n"

func none(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func line(p Package) string {
	it := "(none)"
	if !p.InstallTime.IsZero() {
		it = strconv.FormatInt(p.InstallTime.Unix(), 10)
	}
	return strings.Join([]string{p.Name, none(p.Epoch), p.Version, p.Release, none(p.Arch), none(p.SourceRPM),
		none(p.Vendor), none(p.License), none(p.ModularityLabel), strconv.FormatUint(p.Size, 10), it, none(p.SigMD5)}, "|")
}

// rpmQA runs real rpm on the database directory and returns its lines.
func rpmQA(t *testing.T, dir, backend string) []string {
	t.Helper()
	out, err := exec.Command("rpm", "--dbpath", dir, "--define", "_db_backend "+backend, "-qa", "--qf", qf).Output()
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

func ours(t *testing.T, path string) []string {
	t.Helper()
	db, err := Open(path)
	require.NoError(t, err)
	defer db.Close()
	pkgs, err := db.Packages(context.Background(), Options{})
	require.NoError(t, err)
	var lines []string
	for _, p := range pkgs {
		lines = append(lines, line(p))
	}
	return lines
}

func needRPM(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm is not installed (apt-get install rpm): the real-rpm comparison needs it")
	}
}

func TestSQLiteMatchesRPM(t *testing.T) {
	needRPM(t)
	dir := copyDB(t, filepath.Join(sharedDir(t), "cbl-mariner-2.0/rpmdb.sqlite"), "rpmdb.sqlite")
	want := rpmQA(t, dir, "sqlite")
	// Read the read-only original: no -shm or -wal may be needed.
	got := ours(t, filepath.Join(sharedDir(t), "cbl-mariner-2.0/rpmdb.sqlite"))
	assert.Equal(t, want, got)
	assert.Len(t, got, 129)
}

func TestBerkeleyDBMatchesRPM(t *testing.T) {
	needRPM(t)
	paths := []string{filepath.Join(sharedDir(t), "libuuid/Packages")}
	paths = append(paths, goRPMDBTestdata(t)...)
	for _, p := range paths {
		t.Run(filepath.Base(filepath.Dir(p)), func(t *testing.T) {
			dir := copyDB(t, p, "Packages")
			want := rpmQA(t, dir, "bdb_ro")
			got := ours(t, p)
			// rpm lists in the same hash order we read pages in.
			assert.ElementsMatch(t, want, got)
			assert.Equal(t, want, got, "order")
		})
	}
}

// goRPMDBTestdata returns the CentOS 5-8 Berkeley DB files shipped in the
// go-rpmdb module's test data, downloading the module through the Go module
// proxy (it is not a dependency; only its data files are read).
func goRPMDBTestdata(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/knqyf263/go-rpmdb@v0.0.0-20210911072402-73bd0ce46c49")
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil {
		t.Logf("go-rpmdb test data unavailable (%v): checking only the shared databases", err)
		return nil
	}
	var m struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &m))
	found, err := filepath.Glob(filepath.Join(m.Dir, "pkg/testdata/*/Packages"))
	require.NoError(t, err)
	require.NotEmpty(t, found)
	return found
}

// The NDB database is checked by rpm's own blob checksums and against the
// strings in the file. Debian's rpm is built without ndb, so it cannot be
// asked, and the shared packages.csv describes a later copy of this
// database (its versions are not in the file), so it cannot be used.
func TestNDB(t *testing.T) {
	db, err := Open(filepath.Join(sharedDir(t), "sle15-bci/Packages.db"))
	require.NoError(t, err)
	defer db.Close()
	assert.Equal(t, NDB, db.Backend)
	pkgs, err := db.Packages(context.Background(), Options{Files: true})
	require.NoError(t, err)
	require.Len(t, pkgs, 35)
	raw, err := os.ReadFile(filepath.Join(sharedDir(t), "sle15-bci/Packages.db"))
	require.NoError(t, err)
	for _, p := range pkgs {
		assert.Contains(t, string(raw), p.SourceRPM, p.Name)
		assert.NotEmpty(t, p.Files, p.Name)
	}
	assert.True(t, strings.HasPrefix(line(pkgs[15]),
		"coreutils|(none)|8.32|3.2.1|x86_64|coreutils-8.32-3.2.1.src.rpm|SUSE LLC <https://www.suse.com/>|GPL-3.0-or-later|(none)|6488992|"),
		line(pkgs[15]))
}
