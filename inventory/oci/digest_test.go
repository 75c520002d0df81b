package oci

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sha512Of(b []byte) v1.Hash {
	sum := sha512.Sum512(b)
	return v1.Hash{Algorithm: "sha512", Hex: hex.EncodeToString(sum[:])}
}

// gzipOf compresses b; a level other than the default also names the
// stream in its header, so that its bytes differ whatever the level.
func gzipOf(t *testing.T, b []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	require.NoError(t, err)
	if level != gzip.DefaultCompression {
		zw.Name = "recompressed"
	}
	_, err = zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// sha512Layout writes an OCI layout whose every digest (manifest,
// configuration, layers, diff IDs) is a sha512 one, as the OCI image spec
// allows, and returns its directory and the digests by role.
func sha512Layout(t *testing.T) (string, map[string]v1.Hash) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "blobs", "sha512"), 0o755))
	put := func(b []byte) v1.Hash {
		h := sha512Of(b)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "blobs", "sha512", h.Hex), b, 0o644))
		return h
	}
	tars := [][]byte{
		tarOf(t, ent{Name: "etc/"}, ent{Name: "etc/os-release", Body: "ID=fedora\n"}),
		tarOf(t, ent{Name: "etc/os-release", Body: "ID=fedora\nVERSION_ID=40\n"}),
	}
	var cfg v1.ConfigFile
	cfg.OS, cfg.Architecture, cfg.RootFS.Type = "linux", goarch(), "layers"
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	digests := map[string]v1.Hash{}
	for i, tr := range tars {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, sha512Of(tr))
		z := gzipOf(t, tr, gzip.DefaultCompression)
		h := put(z)
		digests["layer"+string(rune('0'+i))] = h
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.OCILayer, Size: int64(len(z)), Digest: h})
	}
	rawCfg, err := json.Marshal(cfg)
	require.NoError(t, err)
	digests["config"] = put(rawCfg)
	m.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(rawCfg)), Digest: digests["config"]}
	rawM, err := json.Marshal(m)
	require.NoError(t, err)
	digests["manifest"] = put(rawM)
	idx, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
		{MediaType: types.OCIManifestSchema1, Size: int64(len(rawM)), Digest: digests["manifest"],
			Annotations: map[string]string{refName: "1"}}}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion": "1.0.0"}`), 0o644))
	return dir, digests
}

// openFlat opens and flattens ref.
func openFlat(ref string) (*FS, error) {
	im, err := Open(context.Background(), ref)
	if err != nil {
		return nil, err
	}
	defer im.Close()
	return Flatten(context.Background(), im, Options{Want: all})
}

// TestSHA512 reads images whose digests are sha512 ones, as a layout and
// as an oci-archive, and refuses each blob swapped for other bytes.
func TestSHA512(t *testing.T) {
	dir, _ := sha512Layout(t)
	archive := filepath.Join(t.TempDir(), "oci.tar")
	tarDir(t, dir, archive)
	for _, ref := range []string{"oci:" + dir, "oci:" + dir + ":1", "oci-archive:" + archive} {
		f, err := openFlat(ref)
		require.NoError(t, err, ref)
		b, err := fs.ReadFile(f, "etc/os-release")
		require.NoError(t, err, ref)
		assert.Equal(t, "ID=fedora\nVERSION_ID=40\n", string(b), ref)
		assert.True(t, strings.HasPrefix(f.Layers[1].DiffID, "sha512:"), ref)
	}

	for _, c := range []struct {
		name, blob string
		damage     func([]byte) []byte
	}{
		{"manifest", "manifest", func(b []byte) []byte { return bytes.Replace(b, []byte(`"`), []byte(` "`), 1) }},
		{"configuration", "config", func(b []byte) []byte { return bytes.Replace(b, []byte(`"`), []byte(` "`), 1) }},
		{"another layer", "layer1", func([]byte) []byte {
			return gzipOf(t, tarOf(t, ent{Name: "etc/os-release", Body: "ID=evil\n"}), gzip.DefaultCompression)
		}},
		{"same layer, compressed otherwise", "layer1", func([]byte) []byte {
			return gzipOf(t, tarOf(t, ent{Name: "etc/os-release", Body: "ID=fedora\nVERSION_ID=40\n"}), gzip.BestSpeed)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, digests := sha512Layout(t)
			blob := filepath.Join(dir, "blobs", "sha512", digests[c.blob].Hex)
			b, err := os.ReadFile(blob)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(blob, c.damage(b), 0o644))
			archive := filepath.Join(t.TempDir(), "oci.tar")
			tarDir(t, dir, archive)
			for _, ref := range []string{"oci:" + dir, "oci-archive:" + archive} {
				_, err := openFlat(ref)
				assert.ErrorIs(t, err, ErrDigest, ref)
				assert.ErrorContains(t, err, digests[c.blob].Hex[:12], "%s: the error names the blob", ref)
			}
		})
	}
}

// TestDockerArchiveSHA512: a docker-archive whose configuration names its
// layers by sha512 diff IDs; a layer swapped for another is refused.
func TestDockerArchiveSHA512(t *testing.T) {
	good := tarOf(t, ent{Name: "etc/os-release", Body: "ID=fedora\n"})
	for _, c := range []struct {
		name  string
		layer []byte
		err   error
	}{
		{"good", good, nil},
		{"swapped", tarOf(t, ent{Name: "etc/os-release", Body: "ID=evil\n"}), ErrDigest},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cfg v1.ConfigFile
			cfg.OS, cfg.Architecture, cfg.RootFS.Type = "linux", goarch(), "layers"
			cfg.RootFS.DiffIDs = []v1.Hash{sha512Of(good)}
			rawCfg, err := json.Marshal(cfg)
			require.NoError(t, err)
			h, _, err := v1.SHA256(bytes.NewReader(rawCfg))
			require.NoError(t, err)
			dir := t.TempDir()
			files := map[string][]byte{
				h.Hex + ".json": rawCfg,
				"layer.tar":     c.layer,
				"manifest.json": []byte(`[{"Config": "` + h.Hex + `.json", "RepoTags": ["example.org/web:1"], "Layers": ["layer.tar"]}]`),
			}
			for name, b := range files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
			}
			archive := filepath.Join(t.TempDir(), "docker.tar")
			tarDir(t, dir, archive)
			f, err := openFlat("docker-archive:" + archive)
			if c.err != nil {
				assert.ErrorIs(t, err, c.err)
				assert.ErrorContains(t, err, sha512Of(good).Hex)
				return
			}
			require.NoError(t, err)
			b, err := fs.ReadFile(f, "etc/os-release")
			require.NoError(t, err)
			assert.Equal(t, "ID=fedora\n", string(b))
		})
	}
}

// TestRecompressedLayer: a layer blob whose bytes are not the ones the
// manifest names is refused even when it decompresses to the right tar.
func TestRecompressedLayer(t *testing.T) {
	lay, digest := damagedLayout(t, func(b []byte) []byte {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		var tr bytes.Buffer
		_, err = tr.ReadFrom(zr)
		require.NoError(t, err)
		return gzipOf(t, tr.Bytes(), gzip.BestSpeed)
	})
	archive := filepath.Join(t.TempDir(), "oci.tar")
	tarDir(t, lay, archive)
	for _, ref := range []string{"oci:" + lay, "oci-archive:" + archive} {
		_, err := openFlat(ref)
		assert.ErrorIs(t, err, ErrDigest, ref)
		assert.ErrorContains(t, err, digest, ref)
	}
}

// TestValidate runs go-containerregistry's conformance checks over every
// v1.Image this package implements: layouts and oci-archives (also what
// containers-storage reads, through podman image save) and
// docker-archives.
func TestValidate(t *testing.T) {
	img := sample(t)
	dir := t.TempDir()
	lay := filepath.Join(dir, "layout")
	p, err := layout.Write(lay, empty.Index)
	require.NoError(t, err)
	require.NoError(t, p.AppendImage(img, layout.WithAnnotations(map[string]string{refName: "v1"})))
	tarDir(t, lay, filepath.Join(dir, "oci.tar"))
	tag, err := name.NewTag("example.org/web:1")
	require.NoError(t, err)
	require.NoError(t, tarball.WriteToFile(filepath.Join(dir, "docker.tar"), tag, img))
	for _, ref := range []string{
		"oci:" + lay,
		"oci-archive:" + filepath.Join(dir, "oci.tar"),
		"docker-archive:" + filepath.Join(dir, "docker.tar"),
	} {
		im, err := Open(context.Background(), ref)
		require.NoError(t, err, ref)
		assert.NoError(t, validate.Image(im), ref)
		assert.NoError(t, validate.Image(im.Image), ref)
		require.NoError(t, im.Close())
	}
}
