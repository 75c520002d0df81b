package alicorn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/repo"
)

// TestImageByDigestCached: an image named by digest is pulled once; the
// next run reads its cached root and asks the registry for no blob.
func TestImageByDigestCached(t *testing.T) {
	root, repoDir := rpmtest.Fixture(t)
	addr := registrytest.Start(t)
	// The fixture's root as an image, read through a proxy that counts
	// blob downloads.
	entries, err := hostile.FromDir(root)
	require.NoError(t, err)
	img, err := hostile.Image(entries)
	require.NoError(t, err)
	ref, err := name.ParseReference(addr + "/alicorn/root:1")
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img))
	d, err := img.Digest()
	require.NoError(t, err)

	var blobs atomic.Int32
	target, _ := url.Parse("http://" + addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			blobs.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	byDigest := "docker://" + strings.TrimPrefix(proxy.URL, "http://") + "/alicorn/root@" + d.String()

	cache := t.TempDir()
	report := func() string {
		rc, err := repo.FromPath("t,file://" + repoDir)
		require.NoError(t, err)
		sys, err := Open(context.Background(), Options{Image: byDigest, Arch: "x86_64", CacheDir: cache,
			Releasever: "40", Repos: Repos{Dirs: []string{}, FromPath: []repo.Config{rc}}})
		require.NoError(t, err)
		defer sys.Close()
		rep, err := sys.Report(context.Background(), Query{})
		require.NoError(t, err)
		var ids []string
		for _, f := range rep.Host.Findings {
			ids = append(ids, f.Advisory.ID)
		}
		return strings.Join(ids, ",")
	}
	assert.Equal(t, "ADV-1", report())
	first := blobs.Load()
	require.Positive(t, first)
	assert.Equal(t, "ADV-1", report())
	assert.Equal(t, first, blobs.Load(), "no blob downloaded again")
}
