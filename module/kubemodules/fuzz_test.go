package kubemodules

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDeployments decodes a page of Deployments as List does and turns
// it into modules: any body the server (or something in its place)
// sends gives modules or an error, never a panic, and every module has
// a name and a docker:// image.
func FuzzDeployments(f *testing.F) {
	f.Add(`{"metadata":{"continue":""},"items":[{"metadata":{"name":"web","namespace":"modules","labels":{"io.alicorn.module":"web"}},` +
		`"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.example/web@sha256:` + strings.Repeat("a", 64) + `"}]}}}}]}`)
	f.Add(`{"items":[{"metadata":{"name":"a","namespace":"x","labels":{"io.alicorn.module":"web"}},"spec":{"template":{"spec":{"containers":[{"image":"r/a:1"}]}}}},` +
		`{"metadata":{"name":"b","namespace":"y","labels":{"io.alicorn.module":"web"}},"spec":{"template":{"spec":{"containers":[{"image":"r/b:1"}]}}}}]}`)
	f.Add(`{"items":[{"metadata":{"labels":{"io.alicorn.module":""}}}]}`)
	f.Add(`{"items":[{"metadata":{"name":"n","labels":{"io.alicorn.module":"web"}},"spec":{"template":{"spec":{"containers":[]}}}}]}`)
	f.Add(`{"items":null}`)
	f.Fuzz(func(t *testing.T, body string) {
		var l deploymentList
		if json.Unmarshal([]byte(body), &l) != nil {
			return
		}
		mods, err := fromDeployments(l.Items)
		if err != nil {
			return
		}
		for _, m := range mods {
			if m.Name == "" || !strings.HasPrefix(m.Image, "docker://") || len(m.Image) == len("docker://") {
				t.Fatalf("module %+v from %s", m, body)
			}
		}
	})
}
