package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	specs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/alicorn-dev/alicorn/update"
)

// Record is what a published image records about its build.
type Record struct {
	// Recipe is update.RecipeHash of the recipe the image was built from
	// (update.LabelRecipe).
	Recipe string
	// Packages are the installed packages' NEVRAs, in any order;
	// update.LabelPackages is PackagesDigest of them.
	Packages []string
	// Fixes are the IDs of the advisories fixed against the previous
	// image (update.LabelFixes, comma-separated, sorted).
	Fixes []string
	// Advisories are the same fixes in full (update.LabelAdvisories).
	Advisories []update.Fix
	// Previous is the manifest digest of the image this one replaces under
	// the moving tag, "" for the first (update.LabelPrevious).
	Previous string
	// Created, when not zero, is the image's time (the rebuild's
	// Result.Created), recorded as org.opencontainers.image.created
	// (RFC 3339, UTC). Annotate reads no clock.
	Created time.Time
}

// PackagesDigest returns update.LabelPackages' value for a package list:
// "sha256:" and the hex sha256 of the sorted NEVRAs, each ending in a
// newline.
func PackagesDigest(nevras []string) string {
	s := append([]string(nil), nevras...)
	sort.Strings(s)
	h := sha256.New()
	for _, n := range s {
		h.Write([]byte(n + "\n"))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Labels returns the labels r records; keys with nothing to say (no
// fixes, no previous image, no time) are left out.
func (r Record) Labels() map[string]string {
	l := map[string]string{
		update.LabelRecipe:   r.Recipe,
		update.LabelPackages: PackagesDigest(r.Packages),
	}
	if r.Recipe == "" {
		delete(l, update.LabelRecipe)
	}
	if len(r.Fixes) > 0 {
		f := append([]string(nil), r.Fixes...)
		sort.Strings(f)
		l[update.LabelFixes] = strings.Join(f, ",")
	}
	if len(r.Advisories) > 0 {
		if b, err := json.Marshal(r.Advisories); err == nil {
			l[update.LabelAdvisories] = string(b)
		}
	}
	if r.Previous != "" {
		l[update.LabelPrevious] = r.Previous
	}
	if !r.Created.IsZero() {
		l[specs.AnnotationCreated] = r.Created.UTC().Format(time.RFC3339)
	}
	return l
}

// Annotate returns img with r's Labels added to its configuration's
// labels and to its manifest's annotations (replacing keys of the same
// name, keeping the others). The result depends on img and r only.
//
// The previous image is recorded under update.LabelPrevious, not the OCI
// org.opencontainers.image.base.digest: that key names the image this
// one was built FROM, and a rebuild is composed from RPMs, not on top of
// the image it replaces.
func Annotate(img v1.Image, r Record) (v1.Image, error) {
	if r.Previous != "" {
		if _, err := v1.NewHash(r.Previous); err != nil {
			return nil, fmt.Errorf("annotate: previous digest %q: %w", r.Previous, err)
		}
	}
	labels := r.Labels()
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("annotate: image configuration: %w", err)
	}
	cfg := *cf.Config.DeepCopy()
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	maps.Copy(cfg.Labels, labels)
	img, err = mutate.Config(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("annotate: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("annotate: manifest: %w", err)
	}
	ann := maps.Clone(m.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	maps.Copy(ann, labels)
	out, ok := mutate.Annotations(img, ann).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("annotate: manifest annotations did not give an image")
	}
	return out, nil
}
