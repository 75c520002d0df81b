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

const deployTOML = `name = "web"
image = "docker://registry.example/web:stable"

[front]
listen = "127.0.0.1:8080"

[[containers]]
name = "web"
serve = 80
replicas = 3
requires = ["content"]
volumes = ["web-content:/var/www/html:ro"]

[[containers]]
name = "content"
entrypoint = ["/bin/sh", "-c", "cp -a /srv/pages/. /content/ && exec sleep infinity"]
volumes = ["web-content:/content"]

[health]
path = "/"
expect = "It works"

[update]
policy = "blue-green"
ready-timeout = "20s"
pause = "1s"
watch = "30s"
max-error-rate = 0
`

func TestDeployment(t *testing.T) {
	m, err := Parse([]byte(deployTOML), "web.toml")
	require.NoError(t, err)
	var names []string
	for _, r := range m.Deployment() {
		names = append(names, r.Name+"<"+r.Of)
	}
	assert.Equal(t, []string{"content<content", "web-1<web", "web-2<web", "web-3<web"}, names)
	u := m.Update
	assert.Equal(t, 20*time.Second, u.ReadyTimeoutOr(m.Health))
	assert.Equal(t, DefaultDrain, u.DrainOr())
	assert.Equal(t, time.Second, u.PauseOr())
	assert.Equal(t, 30*time.Second, u.WatchOr())
	assert.Equal(t, 0.0, u.MaxErrorRateOr(), "an explicit 0 is kept")
	assert.Equal(t, "/state/front-web.sock", m.Front.SocketIn("/state", "web"))
	m.Update.MaxErrorRate = nil
	assert.Equal(t, DefaultMaxErrorRate, m.Update.MaxErrorRateOr())
}

func TestDeploymentErrors(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{`requires = ["content"]`, `requires = ["nothing"]`, `requires nothing, which the module does not define`},
		{`name = "content"`, `name = "web"`, `container web is defined twice`},
		{`name = "content"`, `name = "a--b"`, `container name "a--b"`},
		{`replicas = 3`, `replicas = -1`, `replicas -1`},
		{`serve = 80`, `serve = 70000`, `serve 70000 is not a port`},
		{`listen = "127.0.0.1:8080"`, `listen = "8080"`, `listen "8080": HOST:PORT`},
		{`listen = "127.0.0.1:8080"`, `listen = "127.0.0.1:99999"`, `port 99999 is not a port`},
		{`replicas = 3`, "replicas = 3\nports = [\"127.0.0.1:8081:80\"]", `3 replicas cannot all publish the fixed ports`},
		{`max-error-rate = 0`, `max-error-rate = 2`, `max-error-rate 2`},
		{`policy = "blue-green"`, `policy = "canary"`, `update policy "canary"`},
		{`watch = "30s"`, `watch = "-1s"`, `watch -1s is negative`},
		{`listen = "127.0.0.1:8080"`, "listen = \"127.0.0.1:8080\"\nkind = \"haproxy\"", "needs the socket of its runtime API"},
		{"serve = 80\n", "", "no container has a serve port"},
		{`volumes = ["web-content:/content"]`, "volumes = [\"web-content:/content\"]\nrequires = [\"web\"]",
			"containers require each other: web → content → web"},
	} {
		require.Contains(t, deployTOML, c.from)
		_, err := Parse([]byte(strings.Replace(deployTOML, c.from, c.to, 1)), "web.toml")
		assert.ErrorContains(t, err, c.want, c.to)
	}
}

// TestDistinct: two modules of one host cannot share a container name
// (podman's names are the host's) or a front's address.
func TestDistinct(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".toml"), []byte(text), 0o644))
	}
	write("a", deployTOML)
	other := strings.Replace(deployTOML, `name = "web"`, `name = "blog"`, 1)
	write("b", other)
	_, err := LoadDir(dir)
	assert.ErrorContains(t, err, "container content is also module web's")
	write("b", strings.NewReplacer(`name = "content"`, `name = "blog-content"`, `requires = ["content"]`, `requires = ["blog-content"]`,
		"name = \"web\"\nserve", "name = \"blog-web\"\nserve").Replace(other))
	_, err = LoadDir(dir)
	assert.ErrorContains(t, err, "[front] listen 127.0.0.1:8080 is also module web's")
	write("b", strings.Replace(strings.NewReplacer(`name = "content"`, `name = "blog-content"`, `requires = ["content"]`, `requires = ["blog-content"]`,
		"name = \"web\"\nserve", "name = \"blog-web\"\nserve").Replace(other), "8080", "8081", 1))
	mods, err := LoadDir(dir)
	require.NoError(t, err)
	assert.Len(t, mods, 2)
}
