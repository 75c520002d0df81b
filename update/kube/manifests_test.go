package kube

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/alicorn-dev/alicorn/module"
)

const web = `name = "web"
image = "docker://registry.example:5000/alicorn/web:1"

[front]
listen = "127.0.0.1:8080"

[[containers]]
name = "content"
volumes = ["web-content:/srv/content"]
entrypoint = ["/usr/sbin/busybox", "sh", "-c", "cp -a /var/www/html/. /srv/content/ && exec sleep 2147483647"]

[[containers]]
name = "web"
serve = 80
replicas = 3
requires = ["content"]
volumes = ["web-content:/var/www/html:ro"]
env = ["LANG=C"]

[health]
path = "/"
expect = "It works"
interval = "2s"
timeout = "20s"

[update]
policy = "rolling"
ready-timeout = "45s"
`

const image = "registry.example:5000/alicorn/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestManifests(t *testing.T) {
	m, err := module.Parse([]byte(web), "web.toml")
	require.NoError(t, err)
	dep, svc, err := Manifests(m, image, "modules")
	require.NoError(t, err)
	y, err := YAML(dep, svc)
	require.NoError(t, err)
	docs := strings.Split(string(y), "---\n")
	require.Len(t, docs, 2)

	// What kubectl would read back.
	var d appsv1.Deployment
	require.NoError(t, yaml.UnmarshalStrict([]byte(docs[0]), &d))
	assert.Equal(t, "Deployment", d.Kind)
	assert.Equal(t, "modules", d.Namespace)
	assert.Equal(t, int32(3), *d.Spec.Replicas)
	assert.Equal(t, int32(45), *d.Spec.ProgressDeadlineSeconds)
	assert.Equal(t, map[string]string{"io.alicorn.module": "web"}, d.Spec.Selector.MatchLabels)
	assert.Equal(t, "0", d.Spec.Strategy.RollingUpdate.MaxUnavailable.String())
	assert.Equal(t, "1", d.Spec.Strategy.RollingUpdate.MaxSurge.String())
	pod := d.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, "web", c.Name)
	assert.Equal(t, image, c.Image)
	assert.Equal(t, int32(80), c.Ports[0].ContainerPort)
	assert.Equal(t, "/", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, int32(2), c.ReadinessProbe.PeriodSeconds)
	assert.Equal(t, []corev1.EnvVar{{Name: "LANG", Value: "C"}}, c.Env)
	assert.Equal(t, []corev1.VolumeMount{{Name: "web-content", MountPath: "/var/www/html", ReadOnly: true}}, c.VolumeMounts)
	require.Len(t, pod.InitContainers, 1, "the content container runs as a sidecar")
	side := pod.InitContainers[0]
	assert.Equal(t, "content", side.Name)
	assert.Equal(t, corev1.ContainerRestartPolicyAlways, *side.RestartPolicy)
	assert.Equal(t, []string{"/usr/sbin/busybox", "sh", "-c", "cp -a /var/www/html/. /srv/content/ && exec sleep 2147483647"}, side.Command)
	require.Len(t, pod.Volumes, 1)
	assert.NotNil(t, pod.Volumes[0].EmptyDir)
	assert.Equal(t, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		d.Spec.Template.Annotations["io.alicorn.digest"])

	var s corev1.Service
	require.NoError(t, yaml.UnmarshalStrict([]byte(docs[1]), &s))
	assert.Equal(t, "Service", s.Kind)
	assert.Equal(t, int32(8080), s.Spec.Ports[0].Port)
	assert.Equal(t, "http", s.Spec.Ports[0].TargetPort.String())
	assert.Equal(t, map[string]string{"io.alicorn.module": "web"}, s.Spec.Selector)
}

func TestPolicies(t *testing.T) {
	for policy, check := range map[string]func(appsv1.DeploymentStrategy){
		"blue-green": func(s appsv1.DeploymentStrategy) {
			assert.Equal(t, "100%", s.RollingUpdate.MaxSurge.String())
			assert.Equal(t, "0", s.RollingUpdate.MaxUnavailable.String())
		},
		"recreate": func(s appsv1.DeploymentStrategy) {
			assert.Equal(t, appsv1.RecreateDeploymentStrategyType, s.Type)
			assert.Nil(t, s.RollingUpdate)
		},
	} {
		m, err := module.Parse([]byte(strings.Replace(web, `policy = "rolling"`, `policy = "`+policy+`"`, 1)), "web.toml")
		require.NoError(t, err)
		dep, _, err := Manifests(m, image, "")
		require.NoError(t, err)
		check(dep.Spec.Strategy)
	}
}

func TestUnsupported(t *testing.T) {
	for change, want := range map[string]string{
		`name = "web"` + "\nimage":               `name "Web_1"`,
		`volumes = ["web-content:/srv/content"]`: `a helper runs once in every pod, not 2 times`,
		`env = ["LANG=C"]`:                       `fixed ports [127.0.0.1:8081:80]`,
	} {
		text := web
		switch want {
		case `name "Web_1"`:
			text = strings.Replace(web, `name = "web"`+"\nimage", `name = "Web_1"`+"\nimage", 1)
		case `a helper runs once in every pod, not 2 times`:
			text = strings.Replace(web, change, change+"\nreplicas = 2", 1)
		default:
			text = strings.Replace(web, "replicas = 3\n", "", 1)
			text = strings.Replace(text, change, change+"\nports = [\"127.0.0.1:8081:80\"]", 1)
		}
		m, err := module.Parse([]byte(text), "web.toml")
		require.NoError(t, err, want)
		_, _, err = Manifests(m, image, "")
		assert.ErrorIs(t, err, ErrUnsupported, want)
		assert.ErrorContains(t, err, want)
	}
}

// A Service's name is a DNS-1123 label: a module name with a dot is a
// valid Deployment name but not a Service's, refused by both Manifests
// and ForPodman.
func TestUnsupportedNameNotLabel(t *testing.T) {
	m, err := module.Parse([]byte(strings.Replace(web, `name = "web"`+"\nimage", `name = "web.v2"`+"\nimage", 1)), "web.toml")
	require.NoError(t, err)
	_, _, err = Manifests(m, image, "")
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, `name "web.v2"`)
	assert.ErrorContains(t, err, "DNS-1123 label")
	_, err = ForPodman(m, image)
	assert.ErrorIs(t, err, ErrUnsupported)
}

func TestVolumeNames(t *testing.T) {
	name := func(src string) string {
		t.Helper()
		vol, mount, _, err := volumeOf(src + ":/mnt")
		require.NoError(t, err, src)
		assert.Empty(t, validation.IsDNS1123Label(vol.Name), "%s: %s", src, vol.Name)
		assert.Equal(t, vol.Name, mount.Name)
		again, _, _, _ := volumeOf(src + ":/other:ro")
		assert.Equal(t, vol.Name, again.Name, "deterministic")
		return vol.Name
	}
	// Names that were valid are kept as they were.
	assert.Equal(t, "web-content", name("web-content"))
	assert.Equal(t, "data", name("data"))
	assert.Equal(t, "host-srv-www", name("/srv/www"))
	assert.Equal(t, "host-srv-www", name("/srv//www/"), "the cleaned path")

	// Others: readable, hashed, distinct.
	assert.Regexp(t, `^data-[0-9a-f]{8}$`, name("Data"))
	assert.Regexp(t, `^web-data-[0-9a-f]{8}$`, name("web.data"))
	assert.Regexp(t, `^host-srv-my-site-[0-9a-f]{8}$`, name("/srv/My_Site"))
	assert.Regexp(t, `^host-[0-9a-f]{8}$`, name("/"))
	long := "/srv/" + strings.Repeat("very-long-directory/", 5)
	one, two := name(long+"one"), name(long+"two")
	assert.Regexp(t, `^host-.*-one-[0-9a-f]{8}$`, one, "the path's tail is kept")
	assert.LessOrEqual(t, len(one), 63)
	long = strings.Repeat("Volume_", 12)
	three, four := name(long+"3"), name(long+"4")
	assert.Regexp(t, `^volume-volume-.*-[0-9a-f]{8}$`, three, "the name's start is kept")
	assert.LessOrEqual(t, len(three), 63)

	all := map[string]string{}
	for _, src := range []string{"data", "Data", "DATA", "web.data", "web-data", "/a-b", "/a/b", "/A/b",
		"/srv/My_Site", "/srv/my-site", "/srv/my/site", "/"} {
		n := name(src)
		assert.NotContains(t, all, n, "%s and %s", src, all[n])
		all[n] = src
	}
	assert.NotEqual(t, one, two)
	assert.NotEqual(t, three, four)
}

// Podman's volumes Data and data are two pod volumes, not one; a source
// whose name another's is, is refused rather than merged.
func TestVolumesDistinct(t *testing.T) {
	m, err := module.Parse([]byte(strings.Replace(web, `volumes = ["web-content:/var/www/html:ro"]`,
		`volumes = ["web-content:/var/www/html:ro", "Data:/a", "data:/b", "/srv/My_Site:/c", "/srv/My_Site/:/d"]`, 1)), "web.toml")
	require.NoError(t, err)
	dep, _, err := Manifests(m, image, "")
	require.NoError(t, err)
	var names []string
	for _, v := range dep.Spec.Template.Spec.Volumes {
		names = append(names, v.Name)
	}
	require.Len(t, names, 4, "%v", names)
	assert.Equal(t, []string{"web-content", names[1], "data", names[3]}, names)
	mounts := dep.Spec.Template.Spec.Containers[0].VolumeMounts
	assert.Equal(t, mounts[3].Name, mounts[4].Name, "one host path, one volume")

	m, err = module.Parse([]byte(strings.Replace(web, `volumes = ["web-content:/var/www/html:ro"]`,
		`volumes = ["host-srv:/a", "/srv:/b"]`, 1)), "web.toml")
	require.NoError(t, err)
	_, _, err = Manifests(m, image, "")
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, "host-srv")
}
