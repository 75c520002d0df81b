package updateinfo_test

import (
	"context"
	"fmt"
	"os"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/updateinfo"
)

func ExampleParse() {
	f, err := os.Open("testdata/fedora.xml")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	err = updateinfo.Parse(context.Background(), f, func(a *advisory.Advisory) error {
		fmt.Println(a.ID, a.Type, a.Severity, a.LastUpdated().Format("2006-01-02"))
		for _, r := range a.References {
			fmt.Println(" ", r.Type, r.ID)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// FEDORA-2024-0001 security Important 2024-03-05
	//   self FEDORA-2024-0001
	//   bugzilla 2257571
	//   cve CVE-2024-0727
	// FEDORA-MODULAR-1 enhancement  2023-11-14
}
