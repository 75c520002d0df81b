package report

import (
	"encoding/json"
	"io"
	"sort"
	"time"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/match"
)

// JSONSchema names the version of the JSON document JSON writes. A change
// that removes or renames a field gets a new version.
const JSONSchema = "https://alicorn.dev/schema/dnf-security/v1"

// Document is the JSON report.
type Document struct {
	Schema     string         `json:"schema"`
	Mode       string         `json:"mode"`
	Advisories []JSONAdvisory `json:"advisories"`
	// Other are the advisories of the root's (or the image's) packages
	// not installed by RPM, when OSV feeds were given.
	Other []JSONAdvisory `json:"other,omitempty"`
	// Modules are the container-based modules that need updates, each
	// with its advisories (packages are those inside its image).
	Modules []JSONModule `json:"modules,omitempty"`
}

// JSONModule is a module that needs updates.
type JSONModule struct {
	Name       string         `json:"name"`
	Image      string         `json:"image"`
	Advisories []JSONAdvisory `json:"advisories"`
}

// JSONAdvisory is one applicable advisory.
type JSONAdvisory struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Severity string `json:"severity,omitempty"`
	Title    string `json:"title"`
	// Updated is the later of the issued and updated dates (UTC).
	Updated     *time.Time      `json:"updated,omitempty"`
	Issued      *time.Time      `json:"issued,omitempty"`
	Repo        string          `json:"repo,omitempty"`
	Notice      string          `json:"notice,omitempty"`
	References  []JSONReference `json:"references"`
	Packages    []JSONPackage   `json:"packages"`
	Description string          `json:"description,omitempty"`
	// Aliases are other IDs of the issue (an OSV advisory's CVE ids).
	Aliases []string `json:"aliases,omitempty"`
}

// JSONReference is a link of an advisory.
type JSONReference struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Href  string `json:"href,omitempty"`
	Title string `json:"title,omitempty"`
}

// JSONPackage is an installed package an advisory applies to.
type JSONPackage struct {
	Name string `json:"name"`
	// Arch is an RPM's; other packages have none.
	Arch string `json:"arch,omitempty"`
	// Installed is the installed NEVRA, or a non-RPM package's version.
	Installed string `json:"installed"`
	// Fixed is the fixed NEVRA, or the version that fixes a non-RPM
	// package ("" when the advisory names none).
	Fixed string `json:"fixed"`
	// FixInstalled says that the installed version is past Fixed (a
	// non-RPM package's advisory in the installed or all mode).
	FixInstalled bool `json:"fix_installed,omitempty"`
	// PURL and Location identify a non-RPM package and where it is.
	PURL     string `json:"purl,omitempty"`
	Location string `json:"location,omitempty"`
}

func ptrTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// JSON writes the findings as a Document: one entry per advisory ID, in ID
// order, each with every installed package it applies to.
func JSON(w io.Writer, findings []match.Finding, installed []inventory.Package, opts Options, modules ...ModuleFindings) error {
	doc := Document{Schema: JSONSchema, Mode: opts.Mode.String(), Advisories: jsonAdvisories(findings, installed)}
	for _, m := range modules {
		if m.needs() {
			jm := JSONModule{Name: m.Name, Image: m.Image, Advisories: jsonAdvisories(m.Findings, m.Installed)}
			jm.Advisories = append(jm.Advisories, osvAdvisories(&m)...)
			sort.SliceStable(jm.Advisories, func(i, j int) bool { return jm.Advisories[i].ID < jm.Advisories[j].ID })
			if m.Name == "" { // the root's own packages not installed by RPM
				doc.Other = jm.Advisories
				continue
			}
			doc.Modules = append(doc.Modules, jm)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// jsonAdvisory is an advisory's entry, without packages yet.
func jsonAdvisory(a *advisory.Advisory) JSONAdvisory {
	ja := JSONAdvisory{ID: a.ID, Type: a.Type, Title: a.Title, Updated: ptrTime(a.LastUpdated()),
		Issued: ptrTime(a.Issued), Repo: a.Repo, Notice: NoticeURL(a), Description: a.Description,
		Aliases: a.Aliases, References: []JSONReference{}, Packages: []JSONPackage{}}
	if a.Has(advisory.HasSeverity) {
		ja.Severity = a.Severity
	}
	for _, r := range a.References {
		ja.References = append(ja.References, JSONReference{Type: r.Type, ID: r.ID, Href: r.Href, Title: r.Title})
	}
	return ja
}

// osvAdvisories groups a module's OSV findings by advisory.
func osvAdvisories(m *ModuleFindings) []JSONAdvisory {
	var out []JSONAdvisory
	index := map[*advisory.Advisory]int{}
	for _, v := range m.Vulnerable {
		i, ok := index[v.Advisory]
		if !ok {
			i = len(out)
			index[v.Advisory] = i
			out = append(out, jsonAdvisory(v.Advisory))
		}
		p := &m.Packages[v.Package]
		jp := JSONPackage{Name: p.Name, Installed: p.Version, Fixed: v.Fixed, PURL: p.PURL.String(),
			FixInstalled: v.FixInstalled}
		if len(p.Locations) > 0 {
			jp.Location = p.Locations[0].Path
		}
		out[i].Packages = append(out[i].Packages, jp)
	}
	return out
}

// jsonAdvisories groups findings by advisory ID, in ID order.
func jsonAdvisories(findings []match.Finding, installed []inventory.Package) []JSONAdvisory {
	out := []JSONAdvisory{}
	index := map[string]int{}
	seenPkg := map[string]bool{}
	for _, f := range findings {
		a := f.Advisory
		i, ok := index[a.ID]
		if !ok {
			ja := jsonAdvisory(a)
			i = len(out)
			index[a.ID] = i
			out = append(out, ja)
		}
		inst := &installed[f.Installed]
		_, arch := rpm.Installed(inst)
		p := JSONPackage{Name: inst.Name, Arch: arch, Installed: rpm.NEVRA(inst),
			Fixed: f.Fixed.Name + "-" + f.Fixed.EVR + "." + f.Fixed.Arch}
		key := a.ID + "\x00" + p.Installed + "\x00" + p.Fixed
		if !seenPkg[key] {
			seenPkg[key] = true
			out[i].Packages = append(out[i].Packages, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RunningKernelNotice writes what dnf's summary adds when a newer kernel
// with a security advisory is installed than the one running.
func RunningKernelNotice(w io.Writer, kernel int, pkgs []inventory.Package, advs []*advisory.Advisory) {
	if kernel < 0 {
		return
	}
	type view struct {
		Name string
		EVR  rpm.EVR
		Arch string
	}
	installed := make([]view, len(pkgs))
	for i := range pkgs {
		evr, arch := rpm.Installed(&pkgs[i])
		installed[i] = view{pkgs[i].Name, evr, arch}
	}
	k := installed[kernel]
	type nevra struct{ name, evr, arch string }
	secure := map[nevra]bool{}
	for _, a := range advs {
		if a.Type != advisory.Security {
			continue
		}
		for _, c := range a.Collections {
			for _, p := range c.Packages {
				if p.Name == k.Name {
					secure[nevra{p.Name, p.EVR, p.Arch}] = true
				}
			}
		}
	}
	best := kernel
	for i, p := range installed {
		if p.Name != k.Name {
			continue
		}
		ok := false
		for n := range secure {
			if n.arch == p.Arch && rpm.Compare(rpm.ParseEVR(n.evr), p.EVR) == 0 {
				ok = true
				break
			}
		}
		if ok && rpm.Compare(p.EVR, installed[best].EVR) > 0 {
			best = i
		}
	}
	if best == kernel {
		return
	}
	b := installed[best]
	io.WriteString(w, "Security: "+b.Name+"-"+b.EVR.String()+"."+b.Arch+" is an installed security update\n")
	io.WriteString(w, "Security: "+k.Name+"-"+k.EVR.String()+"."+k.Arch+" is the currently running version\n")
}
