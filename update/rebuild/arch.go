package rebuild

import "runtime"

func goArch() string { return runtime.GOARCH }

// goArchRPM is this machine's architecture as rpm names it.
func goArchRPM() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	case "arm":
		return "armv7hl"
	}
	return runtime.GOARCH // ppc64le, s390x, riscv64
}
