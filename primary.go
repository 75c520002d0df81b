package alicorn

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/repo"
)

// primaryPackages reads name, arch and EVR of every package in the
// repository's primary metadata.
func primaryPackages(ctx context.Context, md *repo.Metadata) ([]available, error) {
	r, d, err := md.Open(ctx, "primary")
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, nil
	}
	defer r.Close()
	var out []available
	dec := xml.NewDecoder(r)
	var cur *available
	var field string
	inProvides := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("repository %s: %s: %w", md.Config.ID, d.Location.Href, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Local == "package":
				out = append(out, available{})
				cur = &out[len(out)-1]
			case cur != nil && t.Name.Local == "version":
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "epoch":
						cur.evr.Epoch = a.Value
					case "ver":
						cur.evr.Version = a.Value
					case "rel":
						cur.evr.Release = a.Value
					}
				}
			case cur != nil && (t.Name.Local == "name" || t.Name.Local == "arch"):
				field = t.Name.Local
			case cur != nil && t.Name.Local == "provides":
				inProvides = true
			case cur != nil && inProvides && t.Name.Local == "entry":
				var evr rpm.EVR
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "name":
						cur.provides = append(cur.provides, a.Value)
					case "epoch":
						evr.Epoch = a.Value
					case "ver":
						evr.Version = a.Value
					case "rel":
						evr.Release = a.Value
					}
				}
				cur.provideEVRs = append(cur.provideEVRs, solvEVR(evr))
			}
		case xml.CharData:
			if cur != nil && field == "name" {
				cur.name += string(t)
			} else if cur != nil && field == "arch" {
				cur.arch += string(t)
			}
		case xml.EndElement:
			field = ""
			switch t.Name.Local {
			case "package":
				cur = nil
			case "provides":
				inProvides = false
			}
		}
	}
	if err := r.Verify(); err != nil {
		return nil, err
	}
	return out, nil
}
