package repo

import (
	"encoding/xml"
	"fmt"
	"io"
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
