package inventory

import (
	"os"
	"path/filepath"
	"strings"
)

// OSRelease is what a root's os-release file says about its system.
type OSRelease struct {
	// ID is the distribution's ID ("fedora", "rhel", "opensuse-leap").
	ID string
	// VersionID is its version ("40", "9.4").
	VersionID string
	// PlatformID is the module platform ("platform:f40"), if any.
	PlatformID string
}

// ReadOSRelease reads etc/os-release, or else usr/lib/os-release, under
// root. A root without either gives the zero OSRelease.
func ReadOSRelease(root string) OSRelease {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if b, err := os.ReadFile(filepath.Join(root, p)); err == nil {
			return ParseOSRelease(b)
		}
	}
	return OSRelease{}
}

// ParseOSRelease reads the content of an os-release file.
func ParseOSRelease(b []byte) OSRelease {
	var o OSRelease
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			o.ID = v
		case "VERSION_ID":
			o.VersionID = v
		case "PLATFORM_ID":
			o.PlatformID = v
		}
	}
	return o
}
