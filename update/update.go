package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/alicorn-dev/alicorn/module"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Labels a published image records its build in (image configuration
// labels; the manifest carries the same as annotations). Standard keys
// come from the OCI image spec where one exists.
const (
	// LabelRecipe is RecipeHash of the recipe and build context the image
	// was built from: a changed recipe means a rebuild.
	LabelRecipe = "io.alicorn.recipe"
	// LabelPackages is the sha256 of the sorted list of the image's
	// installed packages (NEVRAs, one a line).
	LabelPackages = "io.alicorn.packages"
	// LabelFixes lists the advisories fixed against the previous image,
	// comma-separated IDs.
	LabelFixes = "io.alicorn.fixes"
	// LabelAdvisories holds the fixes against the previous image as JSON
	// (a list of Fix: advisory, severity, CVE and Bugzilla IDs,
	// packages), so that an updater can filter updates as dnf does.
	LabelAdvisories = "io.alicorn.advisories"
	// LabelPrevious is the digest of the image this one replaces under the
	// moving tag ("" for the first).
	LabelPrevious = "io.alicorn.previous"
)

// Gate tests a candidate image of a module before it is published; an
// error keeps it from being published (gate.Podman is one).
type Gate interface {
	Test(ctx context.Context, img v1.Image, m module.Module) error
}

// Publisher pushes a tested image to a repository: blobs, the manifest
// by digest, an immutable tag and, last, the moving tag, so that the tag
// never names a half-pushed image (publish.Publisher is one). It returns
// the digest reference and the immutable tag.
type Publisher interface {
	Publish(ctx context.Context, img v1.Image, repo, tag string) (digestRef, immutable string, err error)
}

// Reason says why a module needs (or does not need) a rebuild.
type Reason string

// Reasons of a Plan.
const (
	// ReasonNone: the published image is current.
	ReasonNone Reason = "none"
	// ReasonFirst: nothing is published under the tag yet.
	ReasonFirst Reason = "first"
	// ReasonAdvisories: security advisories have fixed packages in the
	// recipe's repositories.
	ReasonAdvisories Reason = "advisories"
	// ReasonRecipe: the recipe or its build context changed.
	ReasonRecipe Reason = "recipe"
	// ReasonForced: asked for.
	ReasonForced Reason = "forced"
)

// Plan is what one module needs: a rebuild or not, and why.
type Plan struct {
	// Module is the module's name ("" for the host).
	Module string `json:"module"`
	// Image is the published image (the module's image reference) and
	// Digest the manifest digest it resolved to ("" when none).
	Image  string `json:"image"`
	Digest string `json:"digest,omitempty"`
	// Reasons are why it needs a rebuild; ReasonNone alone when it does
	// not.
	Reasons []Reason `json:"reasons"`
	// Fixes are the advisories that have fixed packages for the image.
	Fixes []Fix `json:"fixes,omitempty"`
	// Recipe is RecipeHash of the module's recipe now.
	Recipe string `json:"recipe"`
	// Layers are the published image's layer digests: a rebuild with the
	// same layers and recipe is the same image, and is not published
	// again.
	Layers []string `json:"layers,omitempty"`
}

// Rebuild reports whether the plan asks for a rebuild.
func (p *Plan) Rebuild() bool {
	for _, r := range p.Reasons {
		if r != ReasonNone {
			return true
		}
	}
	return false
}

// Fix is one advisory and the installed packages it fixes.
type Fix struct {
	Advisory string `json:"advisory"`
	Type     string `json:"type,omitempty"`
	Severity string `json:"severity,omitempty"`
	// CVEs and Bugs are the advisory's CVE and Bugzilla references.
	CVEs []string `json:"cves,omitempty"`
	Bugs []string `json:"bugs,omitempty"`
	// Packages are "installed → fixed" NEVRAs or purls.
	Packages []string `json:"packages"`
}

// RecipeHash returns the sha256 (hex) of a module's recipe and build
// context: the recipe's fields, the Containerfile and every file under
// its directory (the build context), and the sign-key's path (not its
// contents). Equal hashes mean the image would be built the same from the
// same packages.
func RecipeHash(b module.Build) (string, error) {
	h := sha256.New()
	enc, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	h.Write(enc)
	if b.Containerfile != "" {
		ctxDir := filepath.Dir(b.Containerfile)
		var files []string
		err := filepath.WalkDir(ctxDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("build context %s: %w", ctxDir, err)
		}
		sort.Strings(files)
		for _, p := range files {
			rel, _ := filepath.Rel(ctxDir, p)
			fmt.Fprintf(h, "\x00%s\x00", filepath.ToSlash(rel))
			if err := hashFile(h, p); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, p string) error {
	info, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "-> %s", target)
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
