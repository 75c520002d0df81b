package updater_test

import (
	"fmt"

	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/updater"
)

// A module's pending update fixes two advisories; dnf's --sec-severity
// and --cve choose which updates to apply.
func ExampleFilter() {
	st := &updater.Status{Module: "web", Newest: "sha256:2222", Fixes: []update.Fix{
		{Advisory: "FEDORA-2026-1", Type: "security", Severity: "Important", CVEs: []string{"CVE-2026-1001"}},
		{Advisory: "FEDORA-2026-2", Type: "security", Severity: "Low"},
	}}
	for _, f := range []updater.Filter{
		{Severities: []string{"Critical"}},
		{Severities: []string{"Important"}},
		{CVEs: []string{"CVE-2026-1001"}},
	} {
		fmt.Println(f.Wanted(st), len(f.Select(st.Fixes)))
	}
	// Output:
	// false 0
	// true 1
	// true 1
}
