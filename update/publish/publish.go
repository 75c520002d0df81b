package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Publisher pushes images to registries: see the package documentation
// for the order of the writes. The zero value pushes over HTTPS,
// anonymously, unsigned.
type Publisher struct {
	// Insecure allows plain HTTP (and unverified TLS) to the registry, as
	// for a registry on loopback.
	Insecure bool
	// Keychain gives the registry's credentials; nil means anonymous.
	Keychain authn.Keychain
	// Transport is the HTTP transport; nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Signer, when set, signs every published image before the moving tag
	// names it.
	Signer *Signer
}

// Publish pushes img to repo (HOST/REPO, with or without docker://) and
// names it by the immutable tag TAG-N, then by the moving tag tag, as the
// package documentation describes. It returns the image's reference by
// digest (HOST/REPO@sha256:HEX) and its immutable tag (TAG-N; "" when the
// moving tag already named the image and the highest TAG-N does not).
// An image the moving tag already names is not pushed again: nothing is
// written. Errors name the registry and the step that failed; after one
// the moving tag names what it named before.
func (p *Publisher) Publish(ctx context.Context, img v1.Image, repo, tag string) (digestRef, immutable string, err error) {
	r, moving, err := p.names(repo, tag)
	if err != nil {
		return "", "", fmt.Errorf("publish: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", "", fmt.Errorf("publish to %s: image digest: %w", moving, err)
	}
	digestRef = r.Digest(d.String()).Name()
	fail := func(step string, err error) (string, string, error) {
		return "", "", fmt.Errorf("publish %s to registry %s: %s: %w", digestRef, r.RegistryStr(), step, err)
	}
	ro := p.remoteOptions(ctx)

	current, err := head(moving, ro)
	if err != nil {
		return fail("read tag "+tag, err)
	}
	tags, err := list(r, ro)
	if err != nil {
		return fail("list tags", err)
	}
	// The highest TAG-N: reused when it names the image (a run that
	// stopped before the moving tag, or one that already finished).
	n, last := highest(tags, tag)
	if last != "" {
		ld, err := head(r.Tag(last), ro)
		if err != nil {
			return fail("read tag "+last, err)
		}
		if ld == d {
			immutable = last
		}
	}
	if current == d {
		return digestRef, immutable, nil
	}

	next := ""
	if immutable == "" {
		next = tag + "-" + strconv.Itoa(n+1)
		if _, err := name.NewTag(r.Tag(next).Name(), p.nameOptions()...); err != nil {
			return fail("immutable tag", err)
		}
	}
	if err := remote.Write(r.Digest(d.String()), img, ro...); err != nil {
		return fail("write image", err)
	}
	if next != "" {
		if err := remote.Tag(r.Tag(next), img, ro...); err != nil {
			return fail("tag "+next, err)
		}
		immutable = next
	}
	if p.Signer != nil {
		ids := []name.Reference{moving, r.Tag(immutable)}
		if err := p.Signer.attach(ctx, r, d, ids, ro); err != nil {
			return fail("sign", err)
		}
	}
	if err := remote.Tag(moving, img, ro...); err != nil {
		return fail("tag "+tag, err)
	}
	return digestRef, immutable, nil
}

// Current returns the manifest digest the moving tag tag names in repo,
// "" when it names nothing: Record.Previous of the next image.
func (p *Publisher) Current(ctx context.Context, repo, tag string) (string, error) {
	r, moving, err := p.names(repo, tag)
	if err != nil {
		return "", err
	}
	d, err := head(moving, p.remoteOptions(ctx))
	if err != nil {
		return "", fmt.Errorf("registry %s: read tag %s: %w", r.RegistryStr(), moving, err)
	}
	if d == (v1.Hash{}) {
		return "", nil
	}
	return d.String(), nil
}

// names parses repo (with or without docker://) and its tag.
func (p *Publisher) names(repo, tag string) (name.Repository, name.Tag, error) {
	r, err := name.NewRepository(strings.TrimPrefix(repo, "docker://"), p.nameOptions()...)
	if err != nil {
		return name.Repository{}, name.Tag{}, fmt.Errorf("repository %q: %w", repo, err)
	}
	t, err := name.NewTag(r.Tag(tag).Name(), p.nameOptions()...)
	if err != nil {
		return name.Repository{}, name.Tag{}, fmt.Errorf("%s: tag %q: %w", repo, tag, err)
	}
	return r, t, nil
}

func (p *Publisher) nameOptions() []name.Option {
	if p.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func (p *Publisher) remoteOptions(ctx context.Context) []remote.Option {
	ro := []remote.Option{remote.WithContext(ctx)}
	if p.Keychain != nil {
		ro = append(ro, remote.WithAuthFromKeychain(p.Keychain))
	} else {
		ro = append(ro, remote.WithAuth(authn.Anonymous))
	}
	if p.Transport != nil {
		ro = append(ro, remote.WithTransport(p.Transport))
	}
	return ro
}

// head returns the manifest digest a tag names, the zero Hash when the
// tag (or its repository) does not exist.
func head(ref name.Reference, ro []remote.Option) (v1.Hash, error) {
	desc, err := remote.Head(ref, ro...)
	if notFound(err) {
		return v1.Hash{}, nil
	}
	if err != nil {
		return v1.Hash{}, err
	}
	return desc.Digest, nil
}

// list returns the repository's tags, none when it does not exist.
func list(r name.Repository, ro []remote.Option) ([]string, error) {
	tags, err := remote.List(r, ro...)
	if notFound(err) {
		return nil, nil
	}
	return tags, err
}

func notFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// highest returns the highest N of the tags TAG-N (N a decimal without
// leading zeros) and that tag; 0 and "" when there is none.
func highest(tags []string, tag string) (int, string) {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(tag) + `-([1-9][0-9]{0,17})$`)
	best, bestTag := 0, ""
	for _, t := range tags {
		m := re.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		if n, err := strconv.Atoi(m[1]); err == nil && n > best {
			best, bestTag = n, t
		}
	}
	return best, bestTag
}

var _ update.Publisher = (*Publisher)(nil)

// ForModule returns a copy of p that signs with the module's recipe key
// (sign-key), its passphrase read from passphraseFile ("" for a key that
// has none); p itself when the recipe names no key.
func (p *Publisher) ForModule(m module.Module, passphraseFile string) (*Publisher, error) {
	if m.Build.SignKey == "" {
		return p, nil
	}
	s, err := LoadSigner(m.Build.SignKey, passphraseFile)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	c := *p
	c.Signer = s
	return &c, nil
}
