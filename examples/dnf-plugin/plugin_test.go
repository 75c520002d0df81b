package dnfplugin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

// updateinfo holds two security advisories, with CVE and Bugzilla
// references, and a bugfix one; delta-2.0-1 in the repository is an
// update no advisory names.
const updateinfo = `<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="tests@alicorn.dev" status="stable" type="security" version="2.0">
    <id>ALICORN-2026-1</id>
    <title>alpha-2.0-1</title>
    <issued date="2026-01-10 10:00:00"/>
    <severity>Important</severity>
    <description>A buffer overflow in alpha.</description>
    <references>
      <reference href="https://bugzilla.example/1001" id="1001" title="CVE-2026-1001 alpha: buffer overflow" type="bugzilla"/>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2026-1001" id="CVE-2026-1001" type="cve"/>
    </references>
    <pkglist><collection short="T"><name>T</name>
      <package name="alpha" version="2.0" release="1" epoch="0" arch="x86_64"><filename>alpha-2.0-1.x86_64.rpm</filename></package>
    </collection></pkglist>
  </update>
  <update from="tests@alicorn.dev" status="stable" type="security" version="2.0">
    <id>ALICORN-2026-2</id>
    <title>beta-2.0-1</title>
    <issued date="2026-01-12 10:00:00"/>
    <severity>Low</severity>
    <description>A denial of service in beta.</description>
    <references>
      <reference href="https://bugzilla.example/1002" id="1002" title="CVE-2026-1002 beta: denial of service" type="bugzilla"/>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2026-1002" id="CVE-2026-1002" type="cve"/>
    </references>
    <pkglist><collection short="T"><name>T</name>
      <package name="beta" version="2.0" release="1" epoch="0" arch="x86_64"><filename>beta-2.0-1.x86_64.rpm</filename></package>
    </collection></pkglist>
  </update>
  <update from="tests@alicorn.dev" status="stable" type="bugfix" version="2.0">
    <id>ALICORN-2026-3</id>
    <title>gamma-2.0-1</title>
    <issued date="2026-01-14 10:00:00"/>
    <description>A crash in gamma.</description>
    <references>
      <reference href="https://bugzilla.example/1003" id="1003" title="gamma: crash" type="bugzilla"/>
    </references>
    <pkglist><collection short="T"><name>T</name>
      <package name="gamma" version="2.0" release="1" epoch="0" arch="x86_64"><filename>gamma-2.0-1.x86_64.rpm</filename></package>
    </collection></pkglist>
  </update>
</updates>
`

var names = []string{"alpha", "beta", "gamma", "delta"}

func pkgs(version string) []rpmtest.Pkg {
	var out []rpmtest.Pkg
	for _, n := range names {
		out = append(out, rpmtest.Pkg{Name: n, Version: version, Release: "1", Arch: "x86_64"})
	}
	return out
}

// fixture is a repository with the version 2.0 of every package and
// updateinfo, and the plugin in a plugin directory of its own.
type fixture struct {
	b       *rpmtest.Builder
	dir     string
	repo    string
	plugins string // pluginpath: alicorn.py
	conf    string // pluginconfpath: alicorn.conf
	env     []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	missing := rpmtest.Missing()
	for _, tool := range []string{"dnf", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Skipf("the dnf plugin's tests need %v (apt-get install dnf rpm createrepo-c util-linux)", missing)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import dnf").Run(); err != nil {
		t.Skipf("the dnf plugin's tests need python3-dnf: /usr/bin/python3 -c 'import dnf': %v", err)
	}
	fx := &fixture{b: rpmtest.Cached(t), dir: t.TempDir()}
	fx.env = fx.b.Env()
	fx.repo = filepath.Join(fx.dir, "repo")
	require.NoError(t, fx.b.Repo(fx.repo, pkgs("2.0"), []byte(updateinfo), "gz"))
	fx.plugins, fx.conf = filepath.Join(fx.dir, "plugins"), filepath.Join(fx.dir, "plugins.d")
	require.NoError(t, os.MkdirAll(fx.plugins, 0o755))
	require.NoError(t, os.MkdirAll(fx.conf, 0o755))
	src, err := os.ReadFile("alicorn.py")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(fx.plugins, "alicorn.py"), src, 0o644))
	return fx
}

// config writes alicorn.conf's [main] section.
func (fx *fixture) config(t *testing.T, lines ...string) {
	t.Helper()
	text := "[main]\nenabled = 1\n" + strings.Join(lines, "\n") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(fx.conf, "alicorn.conf"), []byte(text), 0o644))
}

// root makes an install root with the version 1.0 of every package.
func (fx *fixture) root(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp(fx.dir, "root-")
	require.NoError(t, err)
	require.NoError(t, fx.b.Root(root, pkgs("1.0")))
	return root
}

// hostArgs are the options of dnf, and of the reporter, for root and the
// repository.
func (fx *fixture) hostArgs(root, cache string) []string {
	return []string{"--installroot=" + root, "--releasever=40", "--setopt=reposdir=/nonexistent",
		"--repofrompath=t,file://" + fx.repo, "--setopt=cachedir=" + cache}
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return result{code, out.String(), errb.String()}
}

// dnf runs real dnf with the plugin on root: `dnf HOSTOPTIONS alicorn args...`
// (--nogpgcheck: the test packages are not signed).
func (fx *fixture) dnf(t *testing.T, root string, args ...string) result {
	t.Helper()
	all := append(fx.hostArgs(root, filepath.Join(fx.dir, "dnf-cache")),
		"--nogpgcheck", "--setopt=pluginpath="+fx.plugins, "--setopt=pluginconfpath="+fx.conf, "alicorn")
	return run(t, fx.env, "dnf", append(all, args...)...)
}

// versions maps the name of each package installed in root to its version.
func (fx *fixture) versions(t *testing.T, root string) map[string]string {
	t.Helper()
	r := run(t, fx.b.Env(), "rpm", "--root", root, "--dbpath", rpmtest.DBPath, "-qa", "--qf", "%{NAME} %{VERSION}\n")
	require.Equal(t, 0, r.code, r.stderr)
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		name, version, _ := strings.Cut(line, " ")
		assert.Empty(t, out[name], "%s installed twice", name)
		out[name] = version
	}
	return out
}

// upgraded is the state of a root after exactly the packages named were
// upgraded.
func upgraded(upgraded ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = "1.0"
	}
	for _, n := range upgraded {
		out[n] = "2.0"
	}
	return out
}

// stub writes a module-update that records its arguments, one a line,
// in the file it returns, and exits with code.
func stub(t *testing.T, dir string, code int) (bin, argv string) {
	t.Helper()
	bin, argv = filepath.Join(dir, "module-update"), filepath.Join(dir, "module-update.argv")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s'\necho module-update ran\nexit %d\n", argv, code)
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o755))
	return bin, argv
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestUpgrade runs `dnf alicorn upgrade` with each filter: exactly the
// packages of the matching advisories are upgraded (never gamma, of a
// bugfix advisory, nor delta, of none), and module-update is run after
// with the same filters and -y or --assumeno.
func TestUpgrade(t *testing.T) {
	fx := newFixture(t)
	bin, argv := stub(t, fx.dir, 0)
	fx.config(t, "module_update = "+bin, "modules_dir = /srv/modules", "state_dir = /srv/state")
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		want   map[string]string
		module []string // module-update's arguments
	}{
		{"security", []string{"upgrade", "--security", "-y"}, 0, upgraded("alpha", "beta"),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--security", "-y"}},
		{"no filter is security", []string{"upgrade", "-y", "web"}, 0, upgraded("alpha", "beta"),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--security", "-y", "web"}},
		{"advisory", []string{"upgrade", "--advisory=ALICORN-2026-2", "-y", "web", "db"}, 0, upgraded("beta"),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--advisory", "ALICORN-2026-2", "-y", "web", "db"}},
		{"cve", []string{"upgrade", "--cve=CVE-2026-1001", "-y"}, 0, upgraded("alpha"),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--cve", "CVE-2026-1001", "-y"}},
		{"bz", []string{"upgrade", "--bz=1002", "--assumeyes"}, 0, upgraded("beta"),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--bz", "1002", "-y"}},
		{"severity", []string{"upgrade", "--sec-severity=Important", "-y"}, 0, upgraded("alpha"),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--sec-severity", "Important", "-y"}},
		{"two filters", []string{"upgrade", "--cve=CVE-2026-1001", "--advisory=ALICORN-2026-2", "-y"}, 0, upgraded("alpha", "beta"),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--advisory", "ALICORN-2026-2", "--cve", "CVE-2026-1001", "-y"}},
		{"bugfix advisory id", []string{"upgrade", "--advisory=ALICORN-2026-3", "-y"}, 0, upgraded("gamma"),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--advisory", "ALICORN-2026-3", "-y"}},
		// dnf refuses the host's transaction (exit 1, as dnf upgrade
		// --assumeno); module-update's dry run comes first.
		{"assumeno", []string{"upgrade", "--security", "--assumeno"}, 1, upgraded(),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--security", "--assumeno"}},
		{"nothing to do", []string{"upgrade", "--cve=CVE-2000-0001", "--assumeno"}, 0, upgraded(),
			[]string{"--modules-dir", "/srv/modules", "--state", "/srv/state", "apply", "--cve", "CVE-2000-0001", "--assumeno"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.RemoveAll(argv))
			root := fx.root(t)
			r := fx.dnf(t, root, tt.args...)
			require.Equal(t, tt.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Equal(t, tt.want, fx.versions(t, root))
			assert.Equal(t, tt.module, lines(t, argv))
			assert.Contains(t, r.stdout, "module-update ran")
		})
	}
}

// TestUpgradeModules checks the order and the exit statuses: module-update
// runs after the host's transaction, its failure is dnf's exit status,
// and it does not run when the host's transaction fails, when the
// configuration says no modules or when it is missing (which is said).
func TestUpgradeModules(t *testing.T) {
	fx := newFixture(t)
	for _, tt := range []struct {
		name    string
		code    int    // module-update's exit status
		config  string // an alicorn.conf line over module_update = the stub, modules_dir = /srv/modules
		args    []string
		want    int // dnf's exit status
		host    map[string]string
		argv    []string // module-update's arguments; nil: it does not run
		message string   // on stdout or stderr
	}{
		{"module-update fails", 1, "", []string{"upgrade", "-y"}, 1, upgraded("alpha", "beta"),
			[]string{"--modules-dir", "/srv/modules", "apply", "--security", "-y"},
			"alicorn: module-update failed (exit status 1); the host's transaction is complete"},
		{"usage error", 2, "", []string{"upgrade", "-y"}, 2, upgraded("alpha", "beta"),
			[]string{"--modules-dir", "/srv/modules", "apply", "--security", "-y"},
			"alicorn: module-update failed (exit status 2)"},
		{"dry run fails", 1, "", []string{"upgrade", "--cve=CVE-2000-0001", "--assumeno"}, 1, upgraded(),
			[]string{"--modules-dir", "/srv/modules", "apply", "--cve", "CVE-2000-0001", "--assumeno"},
			"alicorn: module-update failed (exit status 1)\n"},
		{"interactive", 0, "", []string{"upgrade", "--cve=CVE-2000-0001"}, 0, upgraded(),
			[]string{"--modules-dir", "/srv/modules", "apply", "--cve", "CVE-2000-0001"}, "module-update ran"},
		{"download only", 0, "", []string{"upgrade", "-y", "--downloadonly"}, 0, upgraded(),
			[]string{"--modules-dir", "/srv/modules", "apply", "--security", "--assumeno"}, "module-update ran"},
		{"host fails first", 0, "", []string{"upgrade", "-y", "--setopt=t.gpgcheck=1"}, 1, upgraded(), nil,
			"GPG check FAILED"},
		{"modules = no", 0, "modules = no", []string{"upgrade", "-y"}, 0, upgraded("alpha", "beta"), nil,
			"alicorn: modules skipped (modules = no in alicorn.conf)"},
		{"missing", 0, "module_update = /nonexistent/module-update", []string{"upgrade", "-y"}, 0, upgraded("alpha", "beta"), nil,
			"alicorn: modules skipped: /nonexistent/module-update not found (module_update in alicorn.conf)"},
		{"installroot", 0, "modules_dir =", []string{"upgrade", "-y"}, 0, upgraded("alpha", "beta"), nil,
			"alicorn: modules skipped: --installroot="},
		{"bad config", 0, "modules = maybe", []string{"upgrade", "-y"}, 1, upgraded(), nil,
			"Error: alicorn.conf: modules = maybe: expected yes or no"},
		{"bugfix refused", 0, "", []string{"upgrade", "-y", "--bugfix"}, 1, upgraded(), nil,
			"alicorn upgrade: --bugfix is not supported"},
		{"report option refused", 0, "", []string{"upgrade", "-y", "--json"}, 1, upgraded(), nil,
			"alicorn upgrade: unknown option --json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin, argv := stub(t, t.TempDir(), tt.code)
			config := map[string]string{"module_update": bin, "modules_dir": "/srv/modules"}
			if key, value, ok := strings.Cut(tt.config, "="); ok {
				config[strings.TrimSpace(key)] = strings.TrimSpace(value)
			}
			var conf []string
			for key, value := range config {
				conf = append(conf, key+" = "+value)
			}
			fx.config(t, conf...)
			root := fx.root(t)
			r := fx.dnf(t, root, tt.args...)
			require.Equal(t, tt.want, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Equal(t, tt.host, fx.versions(t, root))
			assert.Equal(t, tt.argv, lines(t, argv))
			assert.Contains(t, r.stdout+r.stderr, tt.message)
		})
	}
}

// moduleDir writes, under dir, a modules directory with one module, web,
// whose image holds alpha-1.0 and gamma-1.0, and returns the directory.
func (fx *fixture) moduleDir(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "image-root")
	require.NoError(t, fx.b.Root(root, pkgs("1.0")[:1]))
	entries, err := hostile.FromDir(root)
	require.NoError(t, err)
	image, err := hostile.WriteLayout(filepath.Join(dir, "image"), entries)
	require.NoError(t, err)
	mods := filepath.Join(dir, "modules.d")
	require.NoError(t, os.MkdirAll(mods, 0o755))
	module := "name = \"web\"\nimage = \"" + image + "\"\n\n[[containers]]\nname = \"web-1\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(mods, "web.toml"), []byte(module), 0o644))
	return mods
}

// TestReport compares `dnf alicorn report ARGS` with the reporter run
// directly on the same host, repository and modules: the same stdout,
// byte for byte, and the same exit status.
func TestReport(t *testing.T) {
	fx := newFixture(t)
	reporter := filepath.Join(t.TempDir(), "dnf-security")
	build := exec.Command("go", "build", "-o", reporter, "../dnf-security")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ../dnf-security: %s", out)
	mods := fx.moduleDir(t, fx.dir)
	fx.config(t, "reporter = "+reporter, "modules_dir = "+mods)
	root := fx.root(t)
	for _, tt := range []struct {
		plugin, direct []string // after `dnf alicorn report`, after the reporter's host options
		code           int
	}{
		{[]string{"-q"}, []string{"-q", "updateinfo"}, 0},
		{[]string{"-q", "--list"}, []string{"-q", "updateinfo", "--list"}, 0},
		// Without -q, dnf says so first about --repofrompath, as for any command.
		{[]string{"--list"}, []string{"updateinfo", "--list"}, 0},
		{[]string{"-q", "list", "--security"}, []string{"-q", "updateinfo", "list", "--security"}, 0},
		{[]string{"-q", "--list", "--all", "--with-cve"}, []string{"-q", "updateinfo", "--list", "--all", "--with-cve"}, 0},
		{[]string{"-q", "--info", "--cve=CVE-2026-1001", "--with-links"},
			[]string{"-q", "updateinfo", "--info", "--cve=CVE-2026-1001", "--with-links"}, 0},
		{[]string{"-q", "--list", "--advisory=ALICORN-2026-3,ALICORN-2026-2", "--bz=1001"},
			[]string{"-q", "updateinfo", "--list", "--advisory=ALICORN-2026-3,ALICORN-2026-2", "--bz=1001"}, 0},
		{[]string{"-q", "list", "--updates", "--bugfix", "--sec-severity=Low", "gamma*"},
			[]string{"-q", "updateinfo", "list", "--updates", "--bugfix", "--sec-severity=Low", "gamma*"}, 0},
		{[]string{"-q", "--list", "--module-packages", "-x", "beta"},
			[]string{"-q", "-x", "beta", "updateinfo", "--list", "--module-packages"}, 0},
		{[]string{"-q", "--list", "--disablerepo=*"}, []string{"-q", "--disablerepo=*", "updateinfo", "--list"}, 0},
		{[]string{"-q", "--json"}, []string{"-q", "updateinfo", "--json"}, 0},
		{[]string{"-q", "--fail-on=Important"}, []string{"-q", "updateinfo", "--fail-on=Important"}, 100},
	} {
		t.Run(strings.Join(tt.plugin, " "), func(t *testing.T) {
			want := run(t, fx.b.Env(), reporter, append(append(fx.hostArgs(root, filepath.Join(fx.dir, "direct-cache")),
				"--modules-dir="+mods), tt.direct...)...)
			require.Equal(t, tt.code, want.code, "the reporter: %s", want.stderr)
			got := fx.dnf(t, root, append([]string{"report"}, tt.plugin...)...)
			assert.Equal(t, want.code, got.code, "stderr:\n%s", got.stderr)
			if !slices.Contains(tt.plugin, "-q") {
				want.stdout = "Added t repo from file://" + fx.repo + "\n" + want.stdout
			}
			assert.Equal(t, want.stdout, got.stdout)
		})
	}
	// The report holds the module.
	r := fx.dnf(t, root, "report", "-q", "--list")
	assert.Contains(t, r.stdout, "module web oci:")

	// Kubernetes discovery's options reach the reporter: its error names
	// the kubeconfig.
	r = fx.dnf(t, root, "report", "-q", "--kube-modules", "--kubeconfig=/nonexistent/kubeconfig", "--kube-namespace=web")
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "kubernetes: kubeconfig /nonexistent/kubeconfig:")

	// The sample configuration: the reporter found on PATH, no modules
	// directory but the root's.
	sample, err := os.ReadFile("alicorn.conf")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(fx.conf, "alicorn.conf"), sample, 0o644))
	fx.env = append(fx.b.Env(), "PATH="+filepath.Dir(reporter)+string(os.PathListSeparator)+os.Getenv("PATH"))
	want := run(t, fx.b.Env(), reporter, append(fx.hostArgs(root, filepath.Join(fx.dir, "direct-cache")),
		"-q", "updateinfo", "--list")...)
	require.Equal(t, 0, want.code, want.stderr)
	r = fx.dnf(t, root, "report", "-q", "--list")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, want.stdout, r.stdout)
	assert.NotContains(t, r.stdout, "module web")

	fx.config(t, "reporter = /nonexistent/dnf-security")
	r = fx.dnf(t, root, "report", "-q")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "alicorn: cannot run /nonexistent/dnf-security (reporter in alicorn.conf): No such file or directory")
}
