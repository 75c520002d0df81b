package repo

import (
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Repomd is a repository's index, repodata/repomd.xml.
type Repomd struct {
	Revision string `xml:"revision"`
	Data     []Data `xml:"data"`
}

// Data is one metadata file repomd.xml lists.
type Data struct {
	Type     string   `xml:"type,attr"`
	Checksum Checksum `xml:"checksum"`
	// OpenChecksum is the checksum of the decompressed file.
	OpenChecksum Checksum `xml:"open-checksum"`
	Location     struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
	Size     int64 `xml:"size"`
	OpenSize int64 `xml:"open-size"`
}

// Checksum is a typed hex digest.
type Checksum struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

// ParseRepomd reads repomd.xml.
func ParseRepomd(r io.Reader) (*Repomd, error) {
	var md Repomd
	d := xml.NewDecoder(io.LimitReader(r, 64<<20))
	if err := d.Decode(&md); err != nil {
		return nil, fmt.Errorf("repomd.xml: %w", err)
	}
	for _, x := range md.Data {
		if x.Location.Href == "" {
			return nil, fmt.Errorf("repomd.xml: %s entry has no location", x.Type)
		}
	}
	return &md, nil
}

// Find returns the entry of the given type, or nil.
func (m *Repomd) Find(typ string) *Data {
	for i := range m.Data {
		if m.Data[i].Type == typ {
			return &m.Data[i]
		}
	}
	return nil
}

// metalink is what a metalink says of repomd.xml: where it is and its
// checksums.
type metalink struct {
	urls []string // base URLs, in the metalink's order
	sums checksums
}

// parseMetalink reads a metalink (version 3, as Fedora's MirrorManager
// writes): the URLs of repomd.xml and its hashes, those of the current
// file and of the alternates (older versions mirrors may still serve).
func parseMetalink(b []byte) (*metalink, error) {
	type hash struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	}
	var doc struct {
		Files []struct {
			Name       string `xml:"name,attr"`
			Hashes     []hash `xml:"verification>hash"`
			Alternates []struct {
				Hashes []hash `xml:"verification>hash"`
			} `xml:"alternates>alternate"`
			URLs []string `xml:"resources>url"`
		} `xml:"files>file"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	ml := &metalink{}
	for _, f := range doc.Files {
		if f.Name != "repomd.xml" && f.Name != "" {
			continue
		}
		// The current file's hashes, then each alternate's.
		all := [][]hash{f.Hashes}
		for _, a := range f.Alternates {
			all = append(all, a.Hashes)
		}
		for _, hs := range all {
			set := map[string]string{}
			for _, h := range hs {
				set[strings.ToLower(h.Type)] = strings.ToLower(strings.TrimSpace(h.Value))
			}
			if len(set) > 0 {
				ml.sums = append(ml.sums, set)
			}
		}
		for _, u := range f.URLs {
			u = strings.TrimSpace(u)
			if strings.HasSuffix(u, "/repodata/repomd.xml") {
				ml.urls = append(ml.urls, strings.TrimSuffix(u, "repodata/repomd.xml"))
			}
		}
	}
	return ml, nil
}

// checksums are the versions of a file a metalink accepts, each a set of
// its digests by type.
type checksums []map[string]string

// verify accepts b when it matches every digest of a known type of one
// version; with no version of known digests, anything passes.
func (cs checksums) verify(b []byte) error {
	usable := false
	var got []string // the first version's mismatches
	for i, set := range cs {
		match, known := true, false
		for typ, want := range set {
			h, err := newHash(typ)
			if err != nil {
				continue
			}
			known = true
			h.Write(b)
			sum := hex.EncodeToString(h.Sum(nil))
			if sum != want {
				match = false
				if i == 0 {
					got = append(got, typ+" "+sum)
				}
			}
		}
		if known && match {
			return nil
		}
		usable = usable || known
	}
	if !usable {
		return nil
	}
	return fmt.Errorf("%w: the metalink lists no such repomd.xml (%s)", ErrChecksum, strings.Join(got, ", "))
}
