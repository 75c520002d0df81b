package inventory

import "strings"

// Owned is a package whose files another package (an RPM) owns.
type Owned struct {
	Package
	// By names the owning package.
	By string
}

// SplitOwned separates the packages whose files another package manager
// owns from the rest, so that each is reported once: a Python, Ruby or
// Java package an RPM installed is the RPM's, whose advisories carry the
// distribution's backported fixes. owner returns the owner of a path
// (relative to the root, as Location.Path), "" for none. A location
// inside an archive ("lib/app.jar!/BOOT-INF/lib/x.jar") is owned with its
// outermost file. A package with several locations is owned when its
// first one is.
func SplitOwned(pkgs []Package, owner func(path string) string) (free []Package, owned []Owned) {
	for _, p := range pkgs {
		by := ""
		if len(p.Locations) > 0 {
			outer, _, _ := strings.Cut(p.Locations[0].Path, "!/")
			by = owner(outer)
		}
		if by == "" {
			free = append(free, p)
		} else {
			owned = append(owned, Owned{Package: p, By: by})
		}
	}
	return free, owned
}
