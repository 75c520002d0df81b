package rebuild

import (
	"archive/tar"
	"context"
	"crypto"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	rpmutils "github.com/sassoftware/go-rpmutils"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/module"
)

// recipePkgs are the repository of the recipe tests: alpha requires
// beta; gamma is unrelated.
var recipePkgs = []rpmtest.Pkg{
	{Name: "alpha", Version: "1.0", Release: "1", Arch: "noarch", Requires: []string{"beta"},
		Files: map[string]string{"/usr/share/alpha/a.txt": "alpha\n"}},
	{Name: "beta", Version: "2.0", Release: "1", Arch: "x86_64",
		Files: map[string]string{"/usr/bin/beta": "#!/bin/sh\necho beta\n", "/usr/share/beta/b.txt": "beta\n"}},
	{Name: "gamma", Epoch: "1", Version: "3.0", Release: "1", Arch: "noarch",
		Files: map[string]string{"/usr/share/gamma/c.txt": "gamma\n"}},
}

// recipeRepo skips the test without rpm, createrepo_c or dnf, and
// otherwise makes the recipe tests' repository in a temporary directory.
func recipeRepo(t *testing.T) (*rpmtest.Builder, string) {
	t.Helper()
	m := rpmtest.Missing()
	if _, err := exec.LookPath("dnf"); err != nil {
		m = append(m, "dnf")
	}
	if len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux dnf)", m)
	}
	b := rpmtest.Cached(t)
	dir := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, b.Repo(dir, recipePkgs, nil, ""))
	return b, dir
}

func recipe(repos ...string) module.Build {
	return module.Build{Packages: []string{"alpha"}, Repos: repos, Releasever: "39",
		Entrypoint: []string{"/usr/bin/beta"}, Ports: []string{"80"}, Labels: map[string]string{"io.alicorn.module": "t"}}
}

// TestFromRecipe installs alpha, which requires beta, and checks that
// the image holds exactly alpha and beta, every file owned by one of them
// (or a directory rpm made for them, or the rpm database), with clamped
// times and numeric owners.
func TestFromRecipe(t *testing.T) {
	_, repoDir := recipeRepo(t)
	work := t.TempDir()
	img, res, err := FromRecipe(context.Background(), work, recipe("file://"+repoDir))
	require.NoError(t, err)

	assert.Equal(t, []string{"alpha-1.0-1.noarch", "beta-2.0-1.x86_64"}, nevras(res.Packages))
	assert.Equal(t, []string{"alpha-1.0-1.noarch", "beta-2.0-1.x86_64"}, res.Unsigned(), "rpmbuild does not sign")
	assert.Contains(t, res.DNF, "--noplugins")
	newest := res.Packages[0].BuildTime
	if res.Packages[1].BuildTime.After(newest) {
		newest = res.Packages[1].BuildTime
	}
	assert.Equal(t, newest, res.Created)

	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, res.Created.Unix(), cf.Created.Unix())
	assert.Equal(t, []string{"/usr/bin/beta"}, cf.Config.Entrypoint)
	assert.Contains(t, cf.Config.ExposedPorts, "80/tcp")
	ls, err := img.Layers()
	require.NoError(t, err)
	blob, err := os.ReadFile(filepath.Join(work, "layer.tar.gz"))
	require.NoError(t, err)
	ld, err := ls[0].Digest()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("sha256:%x", sha256.Sum256(blob)), ld.String(), "the file is the blob")
	require.Len(t, cf.History, 1)
	assert.Equal(t, "dnf install alpha", cf.History[0].CreatedBy)

	root := filepath.Join(t.TempDir(), "root")
	hdrs := extract(t, img, root)
	var names []string
	for i, h := range hdrs {
		names = append(names, h.Name)
		assert.False(t, h.ModTime.After(res.Created), "%s: mtime %v after %v", h.Name, h.ModTime, res.Created)
		assert.Empty(t, h.Uname+h.Gname, h.Name)
		assert.True(t, h.AccessTime.IsZero() && h.ChangeTime.IsZero(), h.Name)
		for k := range h.PAXRecords {
			assert.NotContains(t, []string{"mtime", "atime", "ctime"}, k, h.Name)
		}
		if i > 0 {
			assert.Contains(t, names, path.Dir(strings.TrimSuffix(h.Name, "/"))+"/", "%s before its parent", h.Name)
		}
	}

	out, err := exec.Command("rpm", "--root", root, "--dbpath", DBPath, "-qa", "--qf", "%{nevra}\n").Output()
	require.NoError(t, err)
	installed := strings.Fields(string(out))
	sort.Strings(installed)
	assert.Equal(t, []string{"alpha-1.0-1.noarch", "beta-2.0-1.x86_64"}, installed)

	// Every file is owned; every other directory leads to an owned file.
	var files, dirs []string
	for _, h := range hdrs {
		p := "/" + strings.TrimSuffix(h.Name, "/")
		switch {
		case p == DBPath || strings.HasPrefix(p, DBPath+"/"):
		case h.Typeflag == tar.TypeDir:
			dirs = append(dirs, p)
		default:
			files = append(files, p)
		}
	}
	assert.ElementsMatch(t, []string{"/usr/bin/beta", "/usr/share/alpha/a.txt", "/usr/share/beta/b.txt"}, files)
	for _, f := range files {
		out, err := exec.Command("rpm", "--root", root, "--dbpath", DBPath, "-qf", "--qf", "%{name}\n", f).CombinedOutput()
		assert.NoError(t, err, "%s: %s", f, out)
	}
	for _, d := range dirs {
		owned := exec.Command("rpm", "--root", root, "--dbpath", DBPath, "-qf", d).Run() == nil
		parent := strings.HasPrefix(DBPath, d+"/")
		for _, f := range files {
			parent = parent || strings.HasPrefix(f, d+"/")
		}
		assert.True(t, owned || parent, "%s is neither owned nor a parent of package files", d)
	}
	db := strings.TrimPrefix(DBPath, "/") + "/"
	assert.Contains(t, names, db+"rpmdb.sqlite")
	assert.NotContains(t, names, db+"rpmdb.sqlite-shm", "the shared-memory index is not content")
}

// TestFromRecipeRepoFile reads the repository from a .repo file, and no
// repository of the host's.
func TestFromRecipeRepoFile(t *testing.T) {
	_, repoDir := recipeRepo(t)
	f := filepath.Join(t.TempDir(), "test.repo")
	require.NoError(t, os.WriteFile(f, []byte("[test]\nname=test\nbaseurl=file://"+repoDir+"\nenabled=1\ngpgcheck=0\n"), 0o644))
	b := recipe(f)
	b.Packages = []string{"gamma"}
	_, res, err := FromRecipe(context.Background(), t.TempDir(), b)
	require.NoError(t, err)
	assert.Equal(t, []string{"gamma-1:3.0-1.noarch"}, nevras(res.Packages))
}

// TestFromRecipeMissing names the package no repository has.
func TestFromRecipeMissing(t *testing.T) {
	_, repoDir := recipeRepo(t)
	b := recipe("file://" + repoDir)
	b.Packages = []string{"alpha", "nosuch"}
	_, _, err := FromRecipe(context.Background(), t.TempDir(), b)
	require.ErrorIs(t, err, ErrResolve)
	assert.Contains(t, err.Error(), "No match for argument: nosuch")

	_, _, err = FromRecipe(context.Background(), t.TempDir(), module.Build{Repos: b.Repos})
	assert.ErrorIs(t, err, ErrResolve, "no packages")
}

// TestFromRecipeWorkNotEmpty refuses a work directory another build used.
func TestFromRecipeWorkNotEmpty(t *testing.T) {
	work := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(work, "old"), nil, 0o644))
	_, _, err := FromRecipe(context.Background(), work, recipe("file:///nonexistent"))
	assert.ErrorContains(t, err, "not empty")
}

// corrupt flips a byte of the payload (the file's last bytes) of the
// package file at p.
func corrupt(t *testing.T, p string) {
	t.Helper()
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	data[len(data)-20] ^= 0xff
	require.NoError(t, os.WriteFile(p, data, 0o644))
}

// TestFromRecipeCorrupt refuses a package file whose payload changed.
// After createrepo_c, dnf refuses it first (its checksum in primary.xml
// no longer matches); before, the repository vouches for the corrupted
// file and only the verification of the payload digest refuses it.
func TestFromRecipeCorrupt(t *testing.T) {
	_, repoDir := recipeRepo(t)
	beta := filepath.Join(repoDir, "beta-2.0-1.x86_64.rpm")

	t.Run("after createrepo", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "repo")
		require.NoError(t, os.CopyFS(dir, os.DirFS(repoDir)))
		corrupt(t, filepath.Join(dir, filepath.Base(beta)))
		_, _, err := FromRecipe(context.Background(), t.TempDir(), recipe("file://"+dir))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `Package "beta-2.0-1.x86_64" from local repository "recipe-0" has incorrect checksum`)
	})
	t.Run("before createrepo", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "repo")
		require.NoError(t, os.CopyFS(dir, os.DirFS(repoDir)))
		corrupt(t, filepath.Join(dir, filepath.Base(beta)))
		require.NoError(t, os.RemoveAll(filepath.Join(dir, "repodata")))
		out, err := exec.Command("createrepo_c", "--quiet", "--no-database", dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
		work := t.TempDir()
		_, _, err = FromRecipe(context.Background(), work, recipe("file://"+dir))
		require.ErrorIs(t, err, ErrVerify)
		assert.Contains(t, err.Error(), filepath.Join(work, "rpms", "beta-2.0-1.x86_64.rpm"))
		assert.Contains(t, err.Error(), "digest mismatch")
	})
}

// TestFromRecipeReproducible builds the same recipe twice, in two work
// directories, seconds apart: same layer, same config, same digest.
func TestFromRecipeReproducible(t *testing.T) {
	_, repoDir := recipeRepo(t)
	var digests, layers, configs []string
	for i := range 2 {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond) // another second for rpm's clock
		}
		img, _, err := FromRecipe(context.Background(), t.TempDir(), recipe("file://"+repoDir))
		require.NoError(t, err)
		d, err := img.Digest()
		require.NoError(t, err)
		ls, err := img.Layers()
		require.NoError(t, err)
		ld, err := ls[0].Digest()
		require.NoError(t, err)
		cd, err := img.ConfigName()
		require.NoError(t, err)
		digests, layers, configs = append(digests, d.String()), append(layers, ld.String()), append(configs, cd.String())
	}
	assert.Equal(t, layers[0], layers[1], "layer")
	assert.Equal(t, configs[0], configs[1], "config")
	assert.Equal(t, digests[0], digests[1], "manifest")
}

// extract unpacks the image's only layer at dir and returns its headers.
func extract(t *testing.T, img v1.Image, dir string) []*tar.Header {
	t.Helper()
	ls, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, ls, 1)
	rc, err := ls[0].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	var hdrs []*tar.Header
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs
		}
		require.NoError(t, err)
		hdrs = append(hdrs, h)
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(p, 0o755))
		case tar.TypeReg:
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm())
			require.NoError(t, err)
			_, err = io.Copy(f, tr)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		case tar.TypeSymlink:
			require.NoError(t, os.Symlink(h.Linkname, p))
		case tar.TypeLink:
			require.NoError(t, os.Link(filepath.Join(dir, filepath.FromSlash(h.Linkname)), p))
		default:
			t.Fatalf("%s: unexpected type %c", h.Name, h.Typeflag)
		}
	}
}

// TestFromRecipeSigned reports the key of a signed package, and the
// unsigned ones.
func TestFromRecipeSigned(t *testing.T) {
	_, repoDir := recipeRepo(t)
	dir := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, os.CopyFS(dir, os.DirFS(repoDir)))
	key, err := openpgp.NewEntity("alicorn test", "", "test@alicorn.invalid", &packet.Config{RSABits: 2048})
	require.NoError(t, err)
	beta := filepath.Join(dir, "beta-2.0-1.x86_64.rpm")
	f, err := os.Open(beta)
	require.NoError(t, err)
	_, err = rpmutils.SignRpmFile(f, beta+".signed", key.PrivateKey,
		&rpmutils.SignatureOptions{Hash: crypto.SHA256, CreationTime: time.Unix(1700000000, 0)})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(beta+".signed", beta))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "repodata")))
	out, err := exec.Command("createrepo_c", "--quiet", "--no-database", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)

	_, res, err := FromRecipe(context.Background(), t.TempDir(), recipe("file://"+dir))
	require.NoError(t, err)
	assert.Equal(t, []string{"alpha-1.0-1.noarch"}, res.Unsigned())
	require.Len(t, res.Packages, 2)
	assert.Contains(t, res.Packages[1].KeyIDs, fmt.Sprintf("%016x", key.PrimaryKey.KeyId))
}

// TestFromRecipeKeys: with keys (the recipe's gpgkeys, or a .repo file's
// gpgkey with gpgcheck), a package signed by another key, or by none, is
// refused, naming its file; signed by the key, it goes in.
func TestFromRecipeKeys(t *testing.T) {
	_, repoDir := recipeRepo(t)
	dir := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, os.CopyFS(dir, os.DirFS(repoDir)))
	key, err := openpgp.NewEntity("alicorn test", "", "test@alicorn.invalid", &packet.Config{RSABits: 2048})
	require.NoError(t, err)
	other, err := openpgp.NewEntity("someone else", "", "else@alicorn.invalid", &packet.Config{RSABits: 2048})
	require.NoError(t, err)
	sign := func(file string, k *openpgp.Entity) {
		f, err := os.Open(file)
		require.NoError(t, err)
		_, err = rpmutils.SignRpmFile(f, file+".signed", k.PrivateKey,
			&rpmutils.SignatureOptions{Hash: crypto.SHA256, CreationTime: time.Unix(1700000000, 0)})
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, os.Rename(file+".signed", file))
	}
	createrepo := func() {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, "repodata")))
		out, err := exec.Command("createrepo_c", "--quiet", "--no-database", dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	pub := filepath.Join(t.TempDir(), "key.asc")
	f, err := os.Create(pub)
	require.NoError(t, err)
	w, err := armor.Encode(f, openpgp.PublicKeyType, nil)
	require.NoError(t, err)
	require.NoError(t, key.Serialize(w))
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())

	alpha, beta := filepath.Join(dir, "alpha-1.0-1.noarch.rpm"), filepath.Join(dir, "beta-2.0-1.x86_64.rpm")
	sign(beta, key)
	createrepo()
	r := recipe("file://" + dir)
	r.GPGKeys = []string{pub}
	_, _, err = FromRecipe(context.Background(), t.TempDir(), r)
	require.ErrorIs(t, err, ErrVerify)
	assert.ErrorContains(t, err, "alpha-1.0-1.noarch.rpm: not signed")

	sign(alpha, other)
	createrepo()
	_, _, err = FromRecipe(context.Background(), t.TempDir(), r)
	require.ErrorIs(t, err, ErrVerify)
	assert.ErrorContains(t, err, "alpha-1.0-1.noarch.rpm")
	assert.ErrorContains(t, err, "not found")

	sign(alpha, key)
	createrepo()
	_, res, err := FromRecipe(context.Background(), t.TempDir(), r)
	require.NoError(t, err)
	assert.Empty(t, res.Unsigned())

	// The same key from a .repo file's gpgkey, with gpgcheck.
	repoFile := filepath.Join(t.TempDir(), "signed.repo")
	require.NoError(t, os.WriteFile(repoFile, []byte("[signed]\nname=signed\nbaseurl=file://"+dir+
		"\nenabled=1\ngpgcheck=1\ngpgkey=file://"+pub+"\n"), 0o644))
	r = recipe(repoFile)
	keys, err := Keys(r, nil)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	_, _, err = FromRecipe(context.Background(), t.TempDir(), r)
	require.NoError(t, err)
}
