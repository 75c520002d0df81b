package maven_test

import (
	"fmt"

	"github.com/alicorn-dev/alicorn/ecosystems/maven"
)

func ExampleCompare() {
	for _, p := range [][2]string{{"2.0-beta-1", "2.0"}, {"2.0", "2.0.Final"}, {"2.0.a", "2-1"}, {"1.0-SNAPSHOT", "1.0-rc1"}} {
		fmt.Println(p[0], []string{"<", "==", ">"}[maven.Compare(p[0], p[1])+1], p[1])
	}
	// Output:
	// 2.0-beta-1 < 2.0
	// 2.0 == 2.0.Final
	// 2.0.a < 2-1
	// 1.0-SNAPSHOT > 1.0-rc1
}
