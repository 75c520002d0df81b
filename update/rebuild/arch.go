package rebuild

import "runtime"

func goArch() string { return runtime.GOARCH }
