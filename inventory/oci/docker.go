package oci

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// dockerEntry is one image of a docker-archive's manifest.json.
type dockerEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// fromDockerArchive reads an image from podman save / docker save output
// in place: the archive is indexed once and each layer read where it is
// (go-containerregistry's reader scans the whole archive for every file).
func fromDockerArchive(file, ref string) (v1.Image, func(), error) {
	x, err := indexTar(file)
	if err != nil {
		return nil, nil, err
	}
	img, err := x.dockerImage(ref)
	if err != nil {
		x.f.Close()
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return img, func() { x.f.Close() }, nil
}

func (x *tarIndex) dockerImage(ref string) (v1.Image, error) {
	raw, err := readFile(x, "manifest.json", metaLimit)
	if err != nil {
		return nil, err
	}
	var entries []dockerEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	var found []dockerEntry
	for _, e := range entries {
		if ref == "" {
			found = append(found, e)
			continue
		}
		want, err := name.NewTag(ref)
		if err != nil {
			return nil, err
		}
		for _, t := range e.RepoTags {
			if tag, err := name.NewTag(t); err == nil && tag.Name() == want.Name() {
				found = append(found, e)
				break
			}
		}
	}
	switch {
	case len(found) == 0 && ref != "":
		return nil, fmt.Errorf("no image tagged %q", ref)
	case len(found) == 0:
		return nil, fmt.Errorf("no image in the archive")
	case len(found) > 1:
		return nil, fmt.Errorf("%d images in the archive: name one with :REF", len(found))
	}
	e := found[0]
	cfgName, err := cleanName(e.Config)
	if err != nil {
		return nil, err
	}
	cfg, err := readFile(x, cfgName, metaLimit)
	if err != nil {
		return nil, err
	}
	// The configuration is named after its digest (sha256 as docker and
	// podman write it, or sha512: told apart by the name's length).
	if h, ok := digestName(strings.TrimSuffix(path.Base(cfgName), ".json")); ok {
		if err := checkDigest("configuration", h, cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Config, err)
		}
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cfg))
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w", e.Config, err)
	}
	if len(cf.RootFS.DiffIDs) != len(e.Layers) {
		return nil, fmt.Errorf("manifest.json lists %d layers and the configuration %d", len(e.Layers), len(cf.RootFS.DiffIDs))
	}
	d := &dockerImage{x: x, raw: cfg, layers: map[v1.Hash]string{}}
	for i, l := range e.Layers {
		n, err := cleanName(l)
		if err != nil {
			return nil, err
		}
		d.layers[cf.RootFS.DiffIDs[i]] = n
	}
	return partial.UncompressedToImage(d)
}

// digestName reads a blob's file name as a bare hex digest.
func digestName(s string) (v1.Hash, bool) {
	for _, algo := range []string{"sha256", "sha512"} {
		if h, err := v1.NewHash(algo + ":" + s); err == nil {
			return h, true
		}
	}
	return v1.Hash{}, false
}

// dockerImage is an image whose layers are read from a docker-archive.
type dockerImage struct {
	x      *tarIndex
	raw    []byte
	layers map[v1.Hash]string // diff ID -> file in the archive
}

func (d *dockerImage) RawConfigFile() ([]byte, error) { return d.raw, nil }

func (d *dockerImage) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }

func (d *dockerImage) LayerByDiffID(h v1.Hash) (partial.UncompressedLayer, error) {
	f, ok := d.layers[h]
	if !ok {
		return nil, fmt.Errorf("layer %s is not in the archive", h)
	}
	return &dockerLayer{x: d.x, file: f, diffID: h}, nil
}

// dockerLayer is a layer file of the archive: an uncompressed tar, or a
// gzip or zstd compressed one.
type dockerLayer struct {
	x      *tarIndex
	file   string
	diffID v1.Hash
}

func (l *dockerLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// MediaType is that of an uncompressed layer, whatever the file holds:
// its digest is then its diff ID, not the digest of a compression of it.
func (l *dockerLayer) MediaType() (types.MediaType, error) { return types.DockerUncompressedLayer, nil }

func (l *dockerLayer) Uncompressed() (io.ReadCloser, error) {
	r, err := l.x.open(l.file)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", l.diffID, err)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.diffID, err)
		}
		return zr, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.diffID, err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}
