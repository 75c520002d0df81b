package osv

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"

	"github.com/alicorn-dev/alicorn/advisory"
)

// Limits against hostile feeds.
const (
	// MaxEntry bounds one OSV document.
	MaxEntry = 16 << 20
	// MaxZip bounds the uncompressed contents of an all.zip.
	MaxZip = 8 << 30
)

// ErrTooLarge is wrapped by errors for documents or archives over the
// limits.
var ErrTooLarge = errors.New("larger than this reader accepts")

// document is the part of an OSV entry (ossf.github.io/osv-schema) that
// is read. It is decoded with encoding/json rather than the osv-schema
// protobuf bindings: linking protobuf's registry made every run of the
// reporter pay, OSV feeds or not — a warm host list --security took 3.3
// MB more peak RSS (22.8 MB against 19.5) and 2.6 ms more (median of 31)
// with it; without it, 0.8 MB and no time measurable.
type document struct {
	ID         string           `json:"id"`
	Summary    string           `json:"summary"`
	Details    string           `json:"details"`
	Aliases    []string         `json:"aliases"`
	Published  string           `json:"published"`
	Modified   string           `json:"modified"`
	Withdrawn  string           `json:"withdrawn"`
	Severity   []severity       `json:"severity"`
	References []reference      `json:"references"`
	Affected   []affected       `json:"affected"`
	Specific   databaseSpecific `json:"database_specific"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
		PURL      string `json:"purl"`
	} `json:"package"`
	Ranges []struct {
		Type   string `json:"type"`
		Events []struct {
			Introduced   string `json:"introduced"`
			Fixed        string `json:"fixed"`
			LastAffected string `json:"last_affected"`
			Limit        string `json:"limit"`
		} `json:"events"`
	} `json:"ranges"`
	Versions []string         `json:"versions"`
	Severity []severity       `json:"severity"`
	Specific databaseSpecific `json:"database_specific"`
}

// databaseSpecific is free-form; only a string "severity" is read.
type databaseSpecific struct {
	Severity string
}

func (d *databaseSpecific) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m["severity"] == nil {
		return nil // free-form: anything but an object with a severity string is no severity
	}
	if json.Unmarshal(m["severity"], &d.Severity) != nil {
		d.Severity = ""
	}
	return nil
}

// timestamp reads an RFC 3339 time; "" is the zero time.
func timestamp(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t.UTC(), nil
}

// Parse reads one OSV document; name labels errors.
func Parse(data []byte, name string) (*advisory.Advisory, error) {
	if len(data) > MaxEntry {
		return nil, fmt.Errorf("%s: %d bytes: %w", name, len(data), ErrTooLarge)
	}
	var v document
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if v.ID == "" {
		return nil, fmt.Errorf("%s: no id", name)
	}
	a := &advisory.Advisory{ID: v.ID, Type: advisory.Security, Title: v.Summary, Description: v.Details,
		Present: advisory.HasTitle | advisory.HasDescription, Repo: "osv"}
	// Aliases once each; a CVE ID in its canonical upper case, whatever
	// case the feed wrote it in.
	for _, al := range v.Aliases {
		if len(al) > 4 && strings.EqualFold(al[:4], "CVE-") {
			al = strings.ToUpper(al)
		}
		if al != "" && !slices.Contains(a.Aliases, al) {
			a.Aliases = append(a.Aliases, al)
		}
	}
	var err error
	for _, t := range []struct {
		dst        *time.Time
		src, field string
	}{{&a.Issued, v.Published, "published"}, {&a.Updated, v.Modified, "modified"}, {&a.Withdrawn, v.Withdrawn, "withdrawn"}} {
		if *t.dst, err = timestamp(t.src, t.field); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, r := range v.References {
		a.References = append(a.References, advisory.Reference{Type: strings.ToLower(r.Type),
			Href: r.URL, Present: advisory.RefHasType | advisory.RefHasHref})
	}
	for _, al := range a.Aliases {
		if strings.HasPrefix(al, "CVE-") {
			a.References = append(a.References, advisory.Reference{Type: advisory.RefCVE, ID: al,
				Href:    "https://www.cve.org/CVERecord?id=" + al,
				Present: advisory.RefHasType | advisory.RefHasID | advisory.RefHasHref})
		}
	}
	a.References = append(a.References, advisory.Reference{Type: advisory.RefSelf, ID: a.ID,
		Href: "https://osv.dev/vulnerability/" + a.ID, Present: advisory.RefHasType | advisory.RefHasID | advisory.RefHasHref})
	sev := v.Severity
	dbSev := v.Specific.Severity
	for _, af := range v.Affected {
		x := advisory.Affected{Ecosystem: af.Package.Ecosystem, Name: af.Package.Name, PURL: af.Package.PURL,
			Versions: af.Versions}
		for _, r := range af.Ranges {
			rg := advisory.Range{Type: r.Type}
			for _, e := range r.Events {
				rg.Events = append(rg.Events, advisory.Event{Introduced: e.Introduced, Fixed: e.Fixed,
					LastAffected: e.LastAffected, Limit: e.Limit})
			}
			x.Ranges = append(x.Ranges, rg)
		}
		a.Affected = append(a.Affected, x)
		sev = append(sev, af.Severity...)
		if dbSev == "" {
			dbSev = af.Specific.Severity
		}
	}
	var vectors []string
	for _, s := range sev {
		vectors = append(vectors, s.Score)
	}
	if l := Severity(vectors, dbSev); l != "" {
		a.Severity = l
		a.Present |= advisory.HasSeverity
	}
	return a, nil
}

// Severity maps an advisory's CVSS vectors (the highest base score wins)
// to dnf's severity words, as Red Hat and Fedora use them for scores:
// 9.0–10.0 Critical, 7.0–8.9 Important, 4.0–6.9 Moderate, 0.1–3.9 Low.
// Without a readable vector, the feed's own word (GitHub's CRITICAL,
// HIGH, MODERATE or MEDIUM, LOW) is mapped the same way; "" when neither.
func Severity(vectors []string, databaseSeverity string) string {
	best := -1.0
	for _, v := range vectors {
		if s, ok := baseScore(v); ok && s > best {
			best = s
		}
	}
	switch {
	case best >= 9:
		return "Critical"
	case best >= 7:
		return "Important"
	case best >= 4:
		return "Moderate"
	case best > 0:
		return "Low"
	case best == 0:
		return ""
	}
	switch strings.ToUpper(databaseSeverity) {
	case "CRITICAL":
		return "Critical"
	case "HIGH", "IMPORTANT":
		return "Important"
	case "MODERATE", "MEDIUM":
		return "Moderate"
	case "LOW":
		return "Low"
	}
	return ""
}

// baseScore computes a CVSS v2, v3.0, v3.1 or v4.0 vector's base score.
func baseScore(vector string) (float64, bool) {
	switch {
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		c, err := gocvss40.ParseVector(vector)
		if err != nil {
			return 0, false
		}
		return c.Score(), true
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(vector)
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(vector)
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	case strings.HasPrefix(vector, "AV:"):
		c, err := gocvss20.ParseVector(vector)
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	}
	return 0, false
}

// Load reads the OSV documents at path: a JSON file, a directory of them
// (walked, *.json only), or a zip of them (osv.dev's all.zip). Entries are
// returned in name order; a document that does not parse is an error
// naming it.
func Load(ctx context.Context, path string) ([]*advisory.Advisory, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case st.IsDir():
		return loadDir(ctx, path)
	case strings.HasSuffix(strings.ToLower(path), ".zip"):
		return loadZip(ctx, path)
	}
	if st.Size() > MaxEntry {
		return nil, fmt.Errorf("%s: %d bytes: %w", path, st.Size(), ErrTooLarge)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a, err := Parse(b, path)
	if err != nil {
		return nil, err
	}
	return []*advisory.Advisory{a}, nil
}

func loadDir(ctx context.Context, dir string) ([]*advisory.Advisory, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*advisory.Advisory
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		as, err := Load(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	return out, nil
}

func loadZip(ctx context.Context, path string) ([]*advisory.Advisory, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	files := append([]*zip.File{}, zr.File...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	var out []*advisory.Advisory
	var total int64
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		name := path + ":" + f.Name
		// The sizes in the directory may lie: read at most one byte more.
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, MaxEntry+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if total += int64(len(b)); total > MaxZip {
			return nil, fmt.Errorf("%s: %w", path, ErrTooLarge)
		}
		a, err := Parse(b, name)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
