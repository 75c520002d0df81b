package rpm_test

import (
	"fmt"

	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
)

func ExampleVercmp() {
	fmt.Println(rpm.Vercmp("1.0~rc1", "1.0"))
	fmt.Println(rpm.Vercmp("1.0^git1", "1.0"))
	fmt.Println(rpm.Vercmp("1.10", "1.9"))
	// Output:
	// -1
	// 1
	// 1
}

func ExampleCompare() {
	installed := rpm.ParseEVR("3.2.1-2.fc40")
	fixed := rpm.ParseEVR("1:3.2.2-3.fc40")
	fmt.Println(rpm.Compare(fixed, installed) > 0, fixed)
	// Output: true 1:3.2.2-3.fc40
}
