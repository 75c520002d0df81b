package kube

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
)

// ErrUnsupported is wrapped by Manifests' error for a module file that
// Kubernetes cannot run as written.
var ErrUnsupported = errors.New("not expressible on Kubernetes")

// Manifests returns the Deployment that runs m from image (HOST/REPO@
// sha256:…) in namespace, and the Service in front of it (nil for a
// module without [front]).
//
// The module's served container is the pod's main container and its
// replicas the Deployment's; the other containers run beside it in every
// pod, as sidecars started first (init containers that keep running),
// in the order they require each other. Named volumes are the pod's
// emptyDir volumes, shared by its containers; absolute sources are
// hostPath volumes (a volume name that is a DNS-1123 label is kept, any
// other made one, distinct from the others, with a hash of the source).
// [health] is the readiness probe (Kubernetes cannot check its expect:
// the rollout does). The update policy is the Deployment's strategy:
// rolling surges one pod at a time, blue-green a whole new set, both
// never below the desired count (maxUnavailable 0); recreate stops the
// old pods first; ready-timeout is the progress deadline.
//
// The module's name names the Deployment and the Service: it must be a
// DNS-1123 label (a Service's name has no dots).
func Manifests(m module.Module, image, namespace string) (*appsv1.Deployment, *corev1.Service, error) {
	fail := func(format string, args ...any) (*appsv1.Deployment, *corev1.Service, error) {
		return nil, nil, fmt.Errorf("module %s: %w: "+format, append([]any{m.Name, ErrUnsupported}, args...)...)
	}
	// The Service is named after the module, and a Service's name is a
	// DNS-1123 label (no dots), stricter than a Deployment's subdomain.
	if errs := validation.IsDNS1123Label(m.Name); len(errs) > 0 {
		return fail("name %q: the Deployment and Service are named after the module, and a Service's name must be a DNS-1123 label: %s", m.Name, strings.Join(errs, "; "))
	}
	var main *module.Container
	var helpers []module.Container
	byName := map[string]module.Container{}
	for _, c := range m.Containers {
		byName[c.Name] = c
	}
	seen := map[string]bool{}
	for _, r := range m.Deployment() { // the order they require each other in
		if seen[r.Of] {
			continue
		}
		seen[r.Of] = true
		c := byName[r.Of]
		switch {
		case c.Serve > 0 && main != nil:
			return fail("containers %s and %s both serve: one Deployment has one served container", main.Name, c.Name)
		case c.Serve > 0:
			main = &c
		case c.Replicas > 1:
			return fail("container %s: a helper runs once in every pod, not %d times", c.Name, c.Replicas)
		default:
			helpers = append(helpers, c)
		}
	}
	if main == nil {
		return fail("no container has a serve port")
	}
	volumes := map[string]corev1.Volume{}
	sources := map[string]string{} // volume name → the source it was derived from
	var volumeOrder []string
	container := func(c module.Container) (corev1.Container, error) {
		if errs := validation.IsDNS1123Label(c.Name); len(errs) > 0 {
			return corev1.Container{}, fmt.Errorf("container name %q: %s", c.Name, strings.Join(errs, "; "))
		}
		if len(c.Ports) > 0 {
			return corev1.Container{}, fmt.Errorf("container %s: fixed ports %v: a Service publishes the module", c.Name, c.Ports)
		}
		out := corev1.Container{Name: c.Name, Image: image, Command: c.Entrypoint, Args: c.Command, ImagePullPolicy: corev1.PullIfNotPresent}
		for _, e := range c.Env {
			k, v, _ := strings.Cut(e, "=")
			out.Env = append(out.Env, corev1.EnvVar{Name: k, Value: v})
		}
		for _, v := range c.Volumes {
			vol, mount, src, err := volumeOf(v)
			if err != nil {
				return corev1.Container{}, fmt.Errorf("container %s: %w", c.Name, err)
			}
			if prev, ok := sources[vol.Name]; ok && prev != src {
				// Only names chosen to collide get here (a named volume
				// called like another source's derived name).
				return corev1.Container{}, fmt.Errorf("container %s: volume %q: pod volume name %s is already %s's: rename one", c.Name, v, vol.Name, prev)
			} else if !ok {
				sources[vol.Name] = src
				volumes[vol.Name] = vol
				volumeOrder = append(volumeOrder, vol.Name)
			}
			out.VolumeMounts = append(out.VolumeMounts, mount)
		}
		return out, nil
	}
	labels := map[string]string{module.Label: m.Name}
	spec := corev1.PodSpec{}
	always := corev1.ContainerRestartPolicyAlways
	for _, h := range helpers {
		c, err := container(h)
		if err != nil {
			return fail("%v", err)
		}
		c.RestartPolicy = &always // a sidecar: started before the main container, kept running
		spec.InitContainers = append(spec.InitContainers, c)
	}
	c, err := container(*main)
	if err != nil {
		return fail("%v", err)
	}
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: int32(main.Serve), Protocol: corev1.ProtocolTCP}}
	c.ReadinessProbe = probe(m.Health, main.Serve)
	spec.Containers = []corev1.Container{c}
	for _, n := range volumeOrder {
		spec.Volumes = append(spec.Volumes, volumes[n])
	}
	if s := m.Update.DrainOr().Seconds(); s > 0 {
		grace := int64(math.Ceil(s))
		spec.TerminationGracePeriodSeconds = &grace
	}

	replicas := int32(max(main.Replicas, 1))
	deadline := int32(math.Ceil(m.Update.ReadyTimeoutOr(m.Health).Seconds()))
	zero := intstr.FromInt32(0)
	strategy := appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}
	switch m.Update.Policy {
	case "recreate":
		strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	case "blue-green":
		all := intstr.FromString("100%")
		strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero, MaxSurge: &all}
	default:
		one := intstr.FromInt32(1)
		strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero, MaxSurge: &one}
	}
	meta := metav1.ObjectMeta{Name: m.Name, Namespace: namespace, Labels: labels}
	digest := ""
	if _, d, ok := strings.Cut(image, "@"); ok {
		digest = d
	}
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas:                &replicas,
			Selector:                &metav1.LabelSelector{MatchLabels: labels},
			Strategy:                strategy,
			ProgressDeadlineSeconds: &deadline,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{update.LabelDigest: digest}},
				Spec:       spec,
			},
		},
	}
	if m.Front.Listen == "" {
		return dep, nil, nil
	}
	_, p, _ := net.SplitHostPort(m.Front.Listen) // checked by module.Parse
	port, _ := strconv.Atoi(p)
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "http", Port: int32(port), TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
	return dep, svc, nil
}

// probe is [health] as a readiness probe on port.
func probe(h module.Health, port int) *corev1.Probe {
	p := h.Path
	if p == "" {
		p = "/"
	}
	secs := func(d time.Duration, def int32) int32 {
		if d <= 0 {
			return def
		}
		return int32(max(1, math.Ceil(d.Seconds())))
	}
	return &corev1.Probe{
		ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: p, Port: intstr.FromInt32(int32(port))}},
		PeriodSeconds:  secs(h.Interval.Duration, 2),
		TimeoutSeconds: secs(min(h.Timeout.Duration, 5*time.Second), 1),
	}
}

// volumeOf turns podman's SRC:DEST[:OPTIONS] into a pod volume and a
// mount: a named volume is an emptyDir shared by the pod's containers,
// an absolute source a hostPath. src identifies the source ("volume
// NAME" or "host path PATH", cleaned): one source, one volume.
//
// A pod volume's name is a DNS-1123 label. A named volume that is one
// keeps its name; a hostPath whose cleaned path has only lowercase
// letters and digits between its slashes is "host" and the path with
// its slashes made dashes (/srv/www is host-srv-www). Any other source
// (Data, web.data, /srv/My_Site, /srv/my-site, a long path) is named by
// a readable part of it, lowercased with each run of other characters
// made a dash, and the first 8 hex digits of the source's SHA-256:
// distinct sources, distinct names (Data and data, /a-b and /a/b), the
// same name every time, never more than 63 characters.
func volumeOf(v string) (vol corev1.Volume, mount corev1.VolumeMount, src string, err error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || !path.IsAbs(parts[1]) {
		return corev1.Volume{}, corev1.VolumeMount{}, "", fmt.Errorf("volume %q: SRC:DEST[:OPTIONS]", v)
	}
	source, dest := parts[0], parts[1]
	if source == "" {
		return corev1.Volume{}, corev1.VolumeMount{}, "", fmt.Errorf("volume %q: SRC:DEST[:OPTIONS]: no SRC", v)
	}
	mount = corev1.VolumeMount{MountPath: dest}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			if o == "ro" {
				mount.ReadOnly = true
			}
		}
	}
	if path.IsAbs(source) {
		clean := path.Clean(source)
		vol = corev1.Volume{Name: hostVolumeName(clean),
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: source}}}
		src = "host path " + clean
	} else {
		name := source
		if len(validation.IsDNS1123Label(name)) > 0 {
			name = hashedName("", source, false)
		}
		vol = corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
		src = "volume " + source
	}
	if errs := validation.IsDNS1123Label(vol.Name); len(errs) > 0 { // cannot happen: a guard
		return corev1.Volume{}, corev1.VolumeMount{}, "", fmt.Errorf("volume %q: name %q: %s", v, vol.Name, strings.Join(errs, "; "))
	}
	mount.Name = vol.Name
	return vol, mount, src, nil
}

// hostVolumeName is the pod volume name of the hostPath clean (cleaned,
// absolute): see volumeOf.
func hostVolumeName(clean string) string {
	plain := clean != "/"
	for _, r := range clean {
		if r != '/' && (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			plain = false
			break
		}
	}
	if name := "host" + strings.ReplaceAll(clean, "/", "-"); plain && len(name) <= validation.DNS1123LabelMaxLength {
		return name // one-to-one: only slashes became dashes
	}
	return hashedName("host", clean, true)
}

// hashedName is prefix (if any), a readable part of source (lowercased,
// each run of characters other than letters and digits one dash) and
// the first 8 hex digits of source's SHA-256, joined by dashes, within a
// DNS-1123 label's 63 characters: the readable part keeps its start, or
// its end if tail (a path's last components tell it apart best).
func hashedName(prefix, source string, tail bool) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(source) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	sum := sha256.Sum256([]byte(source))
	parts := []string{hex.EncodeToString(sum[:4])}
	room := validation.DNS1123LabelMaxLength - len(parts[0]) - 1
	if prefix != "" {
		parts = append([]string{prefix}, parts...)
		room -= len(prefix) + 1
	}
	readable := b.String()
	if len(readable) > room { // cut, at a dash if there is one
		if tail {
			cut := readable[len(readable)-room:]
			if i := strings.IndexByte(cut, '-'); readable[len(readable)-room-1] != '-' && i >= 0 {
				cut = cut[i:]
			}
			readable = strings.TrimLeft(cut, "-")
		} else {
			cut := readable[:room]
			if i := strings.LastIndexByte(cut, '-'); readable[room] != '-' && i >= 0 {
				cut = cut[:i]
			}
			readable = strings.TrimRight(cut, "-")
		}
	}
	if readable == "" && prefix == "" {
		readable = "volume"
	}
	if readable != "" {
		parts = append(parts[:len(parts)-1], readable, parts[len(parts)-1])
	}
	return strings.Join(parts, "-")
}

// YAML writes objects as one YAML stream (documents separated by ---),
// as kubectl apply -f and podman kube play read it.
func YAML(objects ...any) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objects {
		if v := reflect.ValueOf(o); !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
			continue
		}
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		if i > 0 && b.Len() > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}
