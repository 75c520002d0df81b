package rpmdb_test

import (
	"context"
	"fmt"

	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

func ExampleRead() {
	pkgs, err := rpmdb.Read(context.Background(), "../../internal/testdata/example/root", rpmdb.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pkgs {
		fmt.Println(p.NEVRA(), p.SourceRPM)
	}
	// Output:
	// openssl-libs-1:3.2.1-2.fc40.x86_64 openssl-libs-3.2.1-2.fc40.src.rpm
	// hello-1.0-1.fc40.noarch hello-1.0-1.fc40.src.rpm
}
