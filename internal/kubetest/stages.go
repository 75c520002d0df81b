package kubetest

import (
	"fmt"
	"sort"
	"strings"
)

// digestKey is the KWOK selector key (a jq expression) of a pod's image
// digest, the annotation update/kube puts on the pod template.
const digestKey = `.metadata.annotations["io.alicorn.digest"]`

// Stages returns KWOK's stage configuration: the fake node becomes
// Ready; a scheduled pod starts and gets Ready, unless its digest has a
// Fault; a deleted pod goes.
func Stages(faults map[string]Fault) string {
	of := func(f Fault) []string {
		var ds []string
		for d, ff := range faults {
			if ff == f {
				ds = append(ds, d)
			}
		}
		sort.Strings(ds)
		return ds
	}
	broken := append(append(of(NeverReady), of(Pending)...), of(CrashLoop)...)
	var b strings.Builder
	b.WriteString(nodeInitialize)
	stage(&b, "pod-ready", pending(broken, nil), "", podStatus("True", "running:\n        startedAt: {{ $now | Quote }}", 0))
	if ds := of(NeverReady); len(ds) > 0 {
		stage(&b, "pod-never-ready", pending(nil, ds), "", podStatus("False", "running:\n        startedAt: {{ $now | Quote }}", 0))
	}
	if ds := of(CrashLoop); len(ds) > 0 {
		stage(&b, "pod-crash-loop", pending(nil, ds), "", podStatus("False", "waiting:\n        reason: CrashLoopBackOff\n        message: back-off 10s restarting failed container", 3))
	}
	if ds := of(FailsLater); len(ds) > 0 {
		sel := "    - key: '.status.phase'\n      operator: In\n      values: [Running]\n" +
			"    - key: '.status.conditions.[] | select( .type == \"Ready\" ) | .status'\n      operator: In\n      values: ['True']\n" +
			in(ds)
		stage(&b, "pod-fails-later", sel, "  delay:\n    durationMilliseconds: 3000\n", podStatus("False", "running:\n        startedAt: {{ $now | Quote }}", 1))
	}
	b.WriteString(podDelete)
	return b.String()
}

func in(ds []string) string {
	return fmt.Sprintf("    - key: '%s'\n      operator: In\n      values: [%s]\n", digestKey, quoted(ds))
}

func quoted(ds []string) string {
	q := make([]string, len(ds))
	for i, d := range ds {
		q[i] = "'" + d + "'"
	}
	return strings.Join(q, ", ")
}

// pending selects a scheduled pod that has not started: with a digest in
// only (when given), not in not.
func pending(not, only []string) string {
	s := "    - key: '.metadata.deletionTimestamp'\n      operator: DoesNotExist\n" +
		"    - key: '.spec.nodeName'\n      operator: Exists\n" +
		"    - key: '.status.phase'\n      operator: In\n      values: [Pending]\n" +
		"    - key: '.status.conditions.[] | select( .type == \"Ready\" ) | .status'\n      operator: NotIn\n      values: ['True']\n"
	if len(not) > 0 {
		s += fmt.Sprintf("    - key: '%s'\n      operator: NotIn\n      values: [%s]\n", digestKey, quoted(not))
	}
	if len(only) > 0 {
		s += in(only)
	}
	return s
}

func stage(b *strings.Builder, name, selector, delay, status string) {
	fmt.Fprintf(b, `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: %s
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
%s%s  next:
    statusTemplate: |
%s`, name, selector, delay, indent(status, "      "))
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = by + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// podStatus is a running pod's status: Ready ready, every container in
// state, restarted restarts times.
func podStatus(ready, state string, restarts int) string {
	containerReady := "true"
	if ready != "True" {
		containerReady = "false"
	}
	return fmt.Sprintf(`{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: PodScheduled
- lastTransitionTime: {{ $now | Quote }}
  status: %[1]q
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: %[1]q
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: %[2]s
  started: true
  restartCount: %[4]d
  state:
    %[3]s
{{ end }}
initContainerStatuses:
{{ range .spec.initContainers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
{{ with NodeIPWith .spec.nodeName }}
hostIP: {{ . | Quote }}
{{ end }}
{{ with PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ . | Quote }}
{{ end }}
phase: Running
startTime: {{ or .status.startTime $now | Quote }}
`, ready, containerReady, state, restarts)
}

const nodeInitialize = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      addresses:
      - address: {{ NodeIP | Quote }}
        type: InternalIP
      - address: {{ NodeName | Quote }}
        type: Hostname
      allocatable:
        cpu: 1k
        memory: 1Ti
        pods: 1M
      capacity:
        cpu: 1k
        memory: 1Ti
        pods: 1M
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: kwok
      phase: Running
`

const podDelete = `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: Exists
  next:
    delete: true
`
