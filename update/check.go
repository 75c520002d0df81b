package update

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/repo"
)

// CheckOptions tune Check.
type CheckOptions struct {
	// CacheDir caches the recipe repositories' metadata ("" means
	// alicorn's default), so that unchanged metadata is not downloaded
	// again.
	CacheDir string
	// Force asks for a rebuild whatever else is found.
	Force bool
	// Limits bound the scan of the published image.
	Limits alicorn.Limits
	// Remote are options for the registry (authentication, transport).
	Remote []remote.Option
	// Client fetches http(s) repository metadata (nil: the default).
	Client *http.Client
	// Arch is the image's architecture for the repositories' $basearch
	// ("" means this machine's).
	Arch string
}

// ErrNoRecipe is returned by Check for a module without a [build] recipe.
var ErrNoRecipe = errors.New("the module has no [build] recipe")

// Check decides whether a module's image needs a rebuild, and why: it
// reads the image published under the recipe's moving tag (nothing there
// is ReasonFirst), compares the recipe hash it records (LabelRecipe) with
// the recipe's now (ReasonRecipe), and scans it against the recipe
// repositories' advisories, as `dnf updateinfo --updates --security`
// would with those repositories (ReasonAdvisories, with the fixes).
func Check(ctx context.Context, m module.Module, o CheckOptions) (*Plan, error) {
	if !m.Buildable() {
		return nil, fmt.Errorf("module %s: %w", m.Name, ErrNoRecipe)
	}
	hash, err := RecipeHash(m.Build)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	p := &Plan{Module: m.Name, Image: m.Image, Recipe: hash}
	if o.Force {
		p.Reasons = append(p.Reasons, ReasonForced)
	}
	ref, err := name.ParseReference(m.Build.Repository() + ":" + m.Build.Tag)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	ropts := append([]remote.Option{remote.WithContext(ctx)}, o.Remote...)
	desc, err := remote.Get(ref, ropts...)
	if isNotFound(err) {
		p.Reasons = append(p.Reasons, ReasonFirst)
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("module %s: reading %s: %w", m.Name, ref, err)
	}
	p.Digest = desc.Digest.String()
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("module %s: %s: %w", m.Name, ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("module %s: %s: %w", m.Name, ref, err)
	}
	if p.Layers, err = layerDigests(img); err != nil {
		return nil, fmt.Errorf("module %s: %s: %w", m.Name, ref, err)
	}
	if cf.Config.Labels[LabelRecipe] != hash {
		p.Reasons = append(p.Reasons, ReasonRecipe)
	}
	fixes, err := scan(ctx, m, ref.Context().Digest(p.Digest).String(), o)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	if p.Fixes = fixes; len(fixes) > 0 {
		p.Reasons = append(p.Reasons, ReasonAdvisories)
	}
	if len(p.Reasons) == 0 {
		p.Reasons = []Reason{ReasonNone}
	}
	return p, nil
}

// isNotFound tells a missing tag or repository from other registry
// errors.
func isNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// scan reports the security advisories whose fixed packages the recipe's
// repositories hold for the image at ref (HOST/REPO@DIGEST).
func scan(ctx context.Context, m module.Module, ref string, o CheckOptions) ([]Fix, error) {
	repos, err := recipeRepos(m.Build, o.Arch)
	if err != nil {
		return nil, err
	}
	sys, err := alicorn.Open(ctx, alicorn.Options{
		Image:           "docker://" + ref,
		Arch:            o.Arch,
		Releasever:      m.Build.Releasever,
		CacheDir:        o.CacheDir,
		Client:          o.Client,
		Repos:           repos,
		DisableExcludes: true,
		Limits:          o.Limits,
	})
	if err != nil {
		return nil, err
	}
	defer sys.Close()
	rep, err := sys.Report(ctx, alicorn.Query{Mode: match.Updates, Filter: match.Filter{Types: []string{"security"}}})
	if err != nil {
		return nil, err
	}
	return fixesOf(rep), nil
}

// fixesOf groups a report's findings by advisory, in ID order.
func fixesOf(rep *alicorn.Report) []Fix {
	byID := map[string]*Fix{}
	for _, f := range rep.Host.Findings {
		fx := byID[f.Advisory.ID]
		if fx == nil {
			fx = &Fix{Advisory: f.Advisory.ID, Type: f.Advisory.Type, Severity: f.Advisory.Severity}
			for _, r := range f.Advisory.References {
				switch r.Type {
				case "cve":
					fx.CVEs = append(fx.CVEs, r.ID)
				case "bugzilla":
					fx.Bugs = append(fx.Bugs, r.ID)
				}
			}
			byID[f.Advisory.ID] = fx
		}
		fx.Packages = append(fx.Packages, rpm.NEVRA(&rep.Host.Installed[f.Installed])+" → "+f.Fixed.Name+"-"+f.Fixed.EVR+"."+f.Fixed.Arch)
	}
	out := make([]Fix, 0, len(byID))
	for _, fx := range byID {
		sort.Strings(fx.Packages)
		out = append(out, *fx)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Advisory < out[j].Advisory })
	return out
}

// recipeRepos turns a recipe's repositories into alicorn's: base URLs
// as --repofrompath repositories, the enabled repositories of .repo
// files ($releasever and $basearch expanded), and nothing of the host's
// (no directory of .repo files).
func recipeRepos(b module.Build, arch string) (alicorn.Repos, error) {
	r := alicorn.Repos{Dirs: []string{}}
	if arch == "" {
		arch = alicorn.MachineArch()
	}
	vars := repo.Vars{"releasever": b.Releasever, "basearch": repo.BaseArch(arch), "arch": arch}
	for i, u := range b.Repos {
		if strings.Contains(u, "://") {
			rc, err := repo.FromPath(fmt.Sprintf("recipe-%d,%s", i, u))
			if err != nil {
				return alicorn.Repos{}, err
			}
			r.FromPath = append(r.FromPath, rc)
			continue
		}
		f, err := os.Open(u)
		if err != nil {
			return alicorn.Repos{}, fmt.Errorf("recipe repo: %w", err)
		}
		cs, err := repo.ParseConfig(f, u, vars)
		f.Close()
		if err != nil {
			return alicorn.Repos{}, fmt.Errorf("recipe repo: %w", err)
		}
		for _, c := range cs {
			if c.Enabled {
				r.FromPath = append(r.FromPath, c)
			}
		}
	}
	return r, nil
}

// layerDigests lists an image's layer digests, bottom first.
func layerDigests(img v1.Image) ([]string, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		out[i] = d.String()
	}
	return out, nil
}

// Unchanged reports whether img, a rebuild, is the published image again:
// the same layers and the same recipe (the labels recording the build
// aside). Publishing it would only record a new "previous" digest.
func (p *Plan) Unchanged(img v1.Image) (bool, error) {
	if p.Digest == "" || slices.Contains(p.Reasons, ReasonRecipe) {
		return false, nil
	}
	ls, err := layerDigests(img)
	if err != nil {
		return false, err
	}
	return slices.Equal(ls, p.Layers), nil
}
