package module

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const webTOML = `# The web-server module.
name = "web"
image = "docker://127.0.0.1:5000/alicorn/web:1"

[[containers]]
name = "web-1"
ports = ["127.0.0.1:8080:80"]
volumes = ["/srv/www:/var/www/html:ro"]

[health]
path = "/"
expect = "It works"
interval = "2s"
timeout = "30s"

[update]
policy = "rolling"
`

func TestParse(t *testing.T) {
	m, err := Parse([]byte(webTOML), "web.toml")
	require.NoError(t, err)
	assert.Equal(t, Module{
		Name:  "web",
		Image: "docker://127.0.0.1:5000/alicorn/web:1",
		Containers: []Container{{Name: "web-1", Ports: []string{"127.0.0.1:8080:80"},
			Volumes: []string{"/srv/www:/var/www/html:ro"}}},
		Health: Health{Path: "/", Expect: "It works", Interval: Duration{2 * time.Second}, Timeout: Duration{30 * time.Second}},
		Update: Update{Policy: "rolling"},
		Source: "web.toml",
	}, m)
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"name = \"web\"\n":                                                  "names no image",
		"image = \"oci:/x\"\n":                                              `name ""`,
		"name = \"w b\"\nimage = \"oci:/x\"\n":                              `name "w b"`,
		"name = \"w\"\nimage = \"oci:/x\"\nport = 1\n":                      "port",
		"name = \"w\"\nimage = \"oci:/x\"\n[update]\npolicy = \"yolo\"\n":   `update policy "yolo"`,
		"name = \"w\"\nimage = \"oci:/x\"\n[health]\ninterval = \"soon\"\n": "soon",
		"name = \"w\"\nimage = \"oci:/x\"\n[health]\npath = \"x\"\n":        "must start with /",
		"name = = 1": "m.toml:1",
	} {
		_, err := Parse([]byte(in), "m.toml")
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.Contains(t, err.Error(), "m.toml", in)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	mods, err := LoadDir(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	assert.Empty(t, mods)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.toml"), []byte(webTOML), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.toml"), []byte("name = \"db\"\nimage = \"oci:/srv/db\"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a module"), 0o644))
	mods, err = LoadDir(dir)
	require.NoError(t, err)
	require.Len(t, mods, 2)
	assert.Equal(t, "db", mods[0].Name)
	assert.Equal(t, "rolling", mods[0].Update.Policy, "the default policy")
	assert.Equal(t, "web", mods[1].Name)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.toml"), []byte(webTOML), 0o644))
	_, err = LoadDir(dir)
	assert.ErrorContains(t, err, "also defined in")
}

func TestParsePodman(t *testing.T) {
	out := `[{"Names":["web-1"],"Image":"localhost/web:1","ImageID":"abc123","Labels":{"io.alicorn.module":"web"},
  "Ports":[{"host_ip":"127.0.0.1","host_port":8080,"container_port":80,"range":1}]},
 {"Names":["web-2"],"Image":"localhost/web:1","ImageID":"abc123","Labels":{"io.alicorn.module":"web"},"Ports":null}]`
	mods, err := parsePodman([]byte(out))
	require.NoError(t, err)
	require.Len(t, mods, 1)
	assert.Equal(t, "containers-storage:abc123", mods[0].Image)
	assert.Equal(t, []Container{{Name: "web-1", Ports: []string{"127.0.0.1:8080:80"}}, {Name: "web-2"}}, mods[0].Containers)
	_, err = parsePodman([]byte("not json"))
	assert.Error(t, err)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(webTOML))
	f.Add([]byte(recipeTOML))
	f.Add([]byte(deployTOML))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, "f.toml")
		if err == nil {
			// A deployment parsed is one that can run: unique names,
			// every container after those it requires.
			seen := map[string]bool{}
			done := map[string]bool{}
			cur := ""
			for _, r := range m.Deployment() {
				if r.Of != cur {
					done[cur], cur = true, r.Of
				}
				if seen[r.Name] {
					t.Fatalf("two containers named %s", r.Name)
				}
				seen[r.Name] = true
				for _, q := range r.Requires {
					if !done[q] {
						t.Fatalf("%s before %s, which it requires", r.Name, q)
					}
				}
			}
		}
		if err == nil && (m.Name == "" || m.Image == "") {
			t.Fatalf("accepted a module without name or image: %+v", m)
		}
		if err == nil && m.Buildable() && (m.Build.Reference() != m.Image || len(m.Build.Packages) == 0) {
			t.Fatalf("accepted a recipe that does not publish the module's image: %+v", m)
		}
	})
}

const recipeTOML = `name = "web"
image = "docker://127.0.0.1:5000/alicorn/web:1"

[build]
packages = ["web-filesystem", "busybox-httpd", "web-content"]
repos = ["file:///srv/repo", "extra.repo"]
releasever = "40"
publish = "docker://127.0.0.1:5000/alicorn/web"
tag = "1"
containerfile = "app/Containerfile"
sign-key = "keys/web.key"
entrypoint = ["/usr/sbin/web-init"]
ports = ["80/tcp"]
labels = {"org.opencontainers.image.title" = "web"}
stop-signal = "SIGTERM"

[test]
content = "test/www"
mount = "/var/www/html"
`

func TestRecipe(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "web.toml"), []byte(recipeTOML), 0o644))
	mods, err := LoadDir(dir)
	require.NoError(t, err)
	require.Len(t, mods, 1)
	m := mods[0]
	require.True(t, m.Buildable())
	assert.Equal(t, Build{
		Packages:      []string{"web-filesystem", "busybox-httpd", "web-content"},
		Repos:         []string{"file:///srv/repo", filepath.Join(dir, "extra.repo")},
		Releasever:    "40",
		Publish:       "docker://127.0.0.1:5000/alicorn/web",
		Tag:           "1",
		Containerfile: filepath.Join(dir, "app/Containerfile"),
		SignKey:       filepath.Join(dir, "keys/web.key"),
		Entrypoint:    []string{"/usr/sbin/web-init"},
		Ports:         []string{"80/tcp"},
		Labels:        map[string]string{"org.opencontainers.image.title": "web"},
		StopSignal:    "SIGTERM",
	}, m.Build)
	assert.Equal(t, Test{Content: filepath.Join(dir, "test/www"), Mount: "/var/www/html"}, m.Test)
	assert.Equal(t, "127.0.0.1:5000/alicorn/web", m.Build.Repository())
	assert.Equal(t, m.Image, m.Build.Reference())

	plain, err := Parse([]byte(webTOML), "web.toml")
	require.NoError(t, err)
	assert.False(t, plain.Buildable())
}

func TestRecipeErrors(t *testing.T) {
	head := "name = \"w\"\nimage = \"docker://r.example/w:1\"\n"
	build := "[build]\npackages = [\"a\"]\nrepos = [\"file:///r\"]\npublish = \"docker://r.example/w\"\ntag = \"1\"\n"
	_, err := Parse([]byte(head+build), "m.toml")
	require.NoError(t, err)
	for in, want := range map[string]string{
		head + "[build]\nrepos = [\"file:///r\"]\n":                                            "names no packages",
		head + "[build]\npackages = [\"a b\"]\n":                                               `package "a b"`,
		head + "[build]\npackages = [\"a\"]\n":                                                 "names no repos",
		head + strings.Replace(build, "file:///r", "ftp://x/r", 1):                             `repo "ftp://x/r"`,
		head + strings.Replace(build, "docker://r.example/w", "r.example/w", 1):                "docker://HOST/REPO",
		head + strings.Replace(build, "docker://r.example/w\"", "docker://r.example/w:2\"", 1): "without tag or digest",
		head + strings.Replace(build, "tag = \"1\"", "tag = \"a b\"", 1):                       `tag "a b"`,
		head + strings.Replace(build, "tag = \"1\"", "tag = \"2\"", 1):                         "publishes docker://r.example/w:2, but the module's image is docker://r.example/w:1",
		head + build + "ports = [\"http\"]\n":                                                  `port "http"`,
		head + build + "colour = \"blue\"\n":                                                   "unknown option build.colour",
		head + "[test]\nmount = \"/x\"\n":                                                      "neither content nor command",
		head + "[test]\ncontent = \"www\"\nmount = \"var/www\"\n":                              `mount "var/www"`,
	} {
		_, err := Parse([]byte(in), "m.toml")
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.Contains(t, err.Error(), "m.toml", in)
	}
}
