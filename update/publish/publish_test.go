package publish

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/update"
)

// tagDigest returns the digest ref names in the registry, the zero Hash
// when it names nothing.
func tagDigest(t *testing.T, ref string) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	h, err := head(r, nil)
	require.NoError(t, err)
	return h
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	require.NoError(t, err)
	return r
}

func tags(t *testing.T, repo string) []string {
	t.Helper()
	r, err := name.NewRepository(repo, name.Insecure)
	require.NoError(t, err)
	l, err := list(r, nil)
	require.NoError(t, err)
	return l
}

func signedImage(t *testing.T, content string, prev string) v1.Image {
	t.Helper()
	img, err := Annotate(testImage(t, content), Record{
		Recipe: "recipe-hash", Packages: []string{"bash-5.2-1.fc40.x86_64"}, Fixes: []string{"FEDORA-2024-1"},
		Previous: prev, Created: time.Unix(1700000000, 0),
	})
	require.NoError(t, err)
	return img
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	addr := registrytest.Start(t)
	keyPath, pubPath, passPath := testKey(t, t.TempDir(), "secret")
	s, err := LoadSigner(keyPath, passPath)
	require.NoError(t, err)
	p := &Publisher{Insecure: true, Signer: s}
	repo := addr + "/alicorn/web"

	prev, err := p.Current(ctx, repo, "latest")
	require.NoError(t, err)
	assert.Empty(t, prev)
	img1 := signedImage(t, "one\n", "")
	d1, err := img1.Digest()
	require.NoError(t, err)
	ref, imm, err := p.Publish(ctx, img1, "docker://"+repo, "latest")
	require.NoError(t, err)
	assert.Equal(t, repo+"@"+d1.String(), ref)
	assert.Equal(t, "latest-1", imm)
	assert.Equal(t, d1, tagDigest(t, repo+":latest"))
	assert.Equal(t, d1, tagDigest(t, repo+":latest-1"))

	// The record is on the pushed image: labels and annotations.
	got, err := remote.Image(mustRef(t, repo+":latest"))
	require.NoError(t, err)
	cf, err := got.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "recipe-hash", cf.Config.Labels[update.LabelRecipe])
	assert.Equal(t, "FEDORA-2024-1", cf.Config.Labels[update.LabelFixes])
	m, err := got.Manifest()
	require.NoError(t, err)
	assert.Equal(t, cf.Config.Labels, m.Annotations)
	assert.Equal(t, "2023-11-14T22:13:20Z", m.Annotations["org.opencontainers.image.created"])

	// The signature attachment: one layer per identity, verified with the
	// public key.
	sigs := readSignatures(t, repo, d1, pubPath)
	assert.ElementsMatch(t, []string{repo + ":latest", repo + ":latest-1"}, sigs)
	sigDigest := tagDigest(t, SignatureTag(mustRef(t, repo).Context(), d1).String())

	// Again: nothing is written.
	before := tags(t, repo)
	ref, imm, err = p.Publish(ctx, img1, repo, "latest")
	require.NoError(t, err)
	assert.Equal(t, repo+"@"+d1.String(), ref)
	assert.Equal(t, "latest-1", imm)
	assert.ElementsMatch(t, before, tags(t, repo))
	assert.Equal(t, sigDigest, tagDigest(t, SignatureTag(mustRef(t, repo).Context(), d1).String()))

	// A new image: the next number, the moving tag follows.
	prev, err = p.Current(ctx, repo, "latest")
	require.NoError(t, err)
	assert.Equal(t, d1.String(), prev)
	img2 := signedImage(t, "two\n", prev)
	d2, err := img2.Digest()
	require.NoError(t, err)
	_, imm, err = p.Publish(ctx, img2, repo, "latest")
	require.NoError(t, err)
	assert.Equal(t, "latest-2", imm)
	assert.Equal(t, d2, tagDigest(t, repo+":latest"))
	assert.Equal(t, d1, tagDigest(t, repo+":latest-1"))
	assert.ElementsMatch(t, []string{repo + ":latest", repo + ":latest-2"}, readSignatures(t, repo, d2, pubPath))

	// A Docker schema 2 image (as rebuild makes) keeps its annotations
	// through the registry.
	dimg, err := Annotate(dockerImage(t, "docker\n"), Record{Recipe: "r", Fixes: []string{"A-1"}})
	require.NoError(t, err)
	ref, _, err = p.Publish(ctx, dimg, repo, "docker")
	require.NoError(t, err)
	got, err = remote.Image(mustRef(t, ref))
	require.NoError(t, err)
	m, err = got.Manifest()
	require.NoError(t, err)
	assert.Equal(t, "application/vnd.docker.distribution.manifest.v2+json", string(m.MediaType))
	assert.Equal(t, "A-1", m.Annotations[update.LabelFixes])

	// Another moving tag in the same repository numbers its own.
	_, imm, err = p.Publish(ctx, img1, repo, "stable")
	require.NoError(t, err)
	assert.Equal(t, "stable-1", imm)
	assert.ElementsMatch(t, []string{repo + ":latest", repo + ":latest-1", repo + ":stable", repo + ":stable-1"},
		readSignatures(t, repo, d1, pubPath), "signatures are added to the attachment, not replacing it")
}

// readSignatures reads the sigstore attachment of digest d in repo,
// checks each layer as podman does (media type, signature over the
// payload blob with the public key, payload type and digest) and returns
// the identities signed.
func readSignatures(t *testing.T, repo string, d v1.Hash, pubPath string) []string {
	t.Helper()
	pubPEM, err := os.ReadFile(pubPath)
	require.NoError(t, err)
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	require.NoError(t, err)
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	require.NoError(t, err)
	r, err := name.NewRepository(repo, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(SignatureTag(r, d))
	require.NoError(t, err)
	m, err := img.Manifest()
	require.NoError(t, err)
	assert.Equal(t, "application/vnd.oci.image.manifest.v1+json", string(m.MediaType))
	var ids []string
	for _, l := range m.Layers {
		require.Equal(t, SimpleSigningMediaType, l.MediaType)
		layer, err := img.LayerByDigest(l.Digest)
		require.NoError(t, err)
		rc, err := layer.Compressed()
		require.NoError(t, err)
		var buf strings.Builder
		_, err = io.Copy(&buf, rc)
		require.NoError(t, err)
		rc.Close()
		payload := []byte(buf.String())
		assert.Equal(t, l.Digest.Hex, sha256Hex(payload))
		sig, err := base64.StdEncoding.DecodeString(l.Annotations[SignatureAnnotation])
		require.NoError(t, err)
		require.NoError(t, v.VerifySignature(strings.NewReader(string(sig)), strings.NewReader(string(payload))))
		// As containers/image parses it (signature/internal
		// sigstore_payload.go): these fields exactly, optional.creator
		// a string.
		var p struct {
			Critical map[string]json.RawMessage `json:"critical"`
			Optional map[string]any             `json:"optional"`
		}
		require.NoError(t, json.Unmarshal(payload, &p))
		assert.ElementsMatch(t, []string{"critical", "optional"}, keys(t, payload))
		assert.ElementsMatch(t, []string{"type", "image", "identity"}, keys(t, mustMarshal(t, p.Critical)))
		assert.JSONEq(t, `"cosign container image signature"`, string(p.Critical["type"]))
		assert.JSONEq(t, `{"docker-manifest-digest":"`+d.String()+`"}`, string(p.Critical["image"]))
		var identity map[string]string
		require.NoError(t, json.Unmarshal(p.Critical["identity"], &identity))
		assert.ElementsMatch(t, []string{"docker-reference"}, keys(t, p.Critical["identity"]))
		assert.Equal(t, map[string]any{"creator": "alicorn"}, p.Optional)
		ids = append(ids, identity["docker-reference"])
	}
	return ids
}

func keys(t *testing.T, obj []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(obj, &m))
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// refusingProxy is a reverse proxy to the registry at addr that answers
// 403 to a PUT of the manifest under tag.
func refusingProxy(t *testing.T, addr, tag string) string {
	t.Helper()
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/"+tag) {
			http.Error(w, `{"errors":[{"code":"DENIED","message":"tag writes refused by the test"}]}`, http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestPublishRefused: a registry that refuses the moving tag's write
// gives an error naming it, the moving tag stays on the previous image,
// and the next run finishes with the same immutable tag.
func TestPublishRefused(t *testing.T) {
	ctx := context.Background()
	addr := registrytest.Start(t)
	p := &Publisher{Insecure: true}
	img1, img2 := signedImage(t, "one\n", ""), signedImage(t, "two\n", "")
	d1, _ := img1.Digest()
	d2, _ := img2.Digest()
	_, _, err := p.Publish(ctx, img1, addr+"/alicorn/web", "latest")
	require.NoError(t, err)

	proxy := refusingProxy(t, addr, "latest")
	_, _, err = p.Publish(ctx, img2, proxy+"/alicorn/web", "latest")
	require.Error(t, err)
	assert.ErrorContains(t, err, "registry "+proxy)
	assert.ErrorContains(t, err, "tag latest")
	assert.ErrorContains(t, err, "DENIED")
	assert.Equal(t, d1, tagDigest(t, addr+"/alicorn/web:latest"), "the moving tag did not move")
	assert.Equal(t, d2, tagDigest(t, addr+"/alicorn/web:latest-2"))

	_, imm, err := p.Publish(ctx, img2, addr+"/alicorn/web", "latest")
	require.NoError(t, err)
	assert.Equal(t, "latest-2", imm, "the immutable tag of the failed run is reused")
	assert.Equal(t, d2, tagDigest(t, addr+"/alicorn/web:latest"))
	assert.NotContains(t, tags(t, addr+"/alicorn/web"), "latest-3")

	// A moving tag too long for an immutable one: refused before any
	// write.
	long := strings.Repeat("t", 127)
	_, _, err = p.Publish(ctx, img2, addr+"/alicorn/long", long)
	assert.ErrorContains(t, err, "immutable tag")
	assert.Empty(t, tags(t, addr+"/alicorn/long"))

	// A refused immutable tag: nothing moves either.
	proxy = refusingProxy(t, addr, "latest-3")
	img3 := signedImage(t, "three\n", "")
	_, _, err = p.Publish(ctx, img3, proxy+"/alicorn/web", "latest")
	assert.ErrorContains(t, err, "tag latest-3")
	assert.Equal(t, d2, tagDigest(t, addr+"/alicorn/web:latest"))
}

// TestPublishDown: a registry that is down gives an error naming it,
// quickly.
func TestPublishDown(t *testing.T) {
	addr := registrytest.FreeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, _, err := (&Publisher{Insecure: true}).Publish(ctx, testImage(t, "x"), addr+"/alicorn/web", "latest")
	require.Error(t, err)
	assert.ErrorContains(t, err, "registry "+addr)
	assert.ErrorContains(t, err, "connection refused")
	assert.Less(t, time.Since(start), 20*time.Second)

	_, err = (&Publisher{Insecure: true}).Current(ctx, addr+"/alicorn/web", "latest")
	assert.ErrorContains(t, err, "registry "+addr)

	_, _, err = (&Publisher{Insecure: true}).Publish(ctx, testImage(t, "x"), addr+"/alicorn/web", "bad tag")
	assert.ErrorContains(t, err, `tag "bad tag"`)
	_, _, err = (&Publisher{Insecure: true}).Publish(ctx, testImage(t, "x"), "docker://Bad/Repo", "latest")
	assert.ErrorContains(t, err, `repository "docker://Bad/Repo"`)
}

// TestPublishKilled kills a publishing process (SIGKILL) in the middle of
// its push, at each write; the moving tag stays where it was and the next
// run publishes without cleanup.
func TestPublishKilled(t *testing.T) {
	addr := registrytest.Start(t)
	keyPath, pubPath, passPath := testKey(t, t.TempDir(), "secret")
	s, err := LoadSigner(keyPath, passPath)
	require.NoError(t, err)
	p := &Publisher{Insecure: true, Signer: s}
	ctx := context.Background()
	for i, stop := range []struct{ name, method, path string }{
		{"blob upload", http.MethodPatch, "/blobs/uploads/"},
		{"manifest by digest", http.MethodPut, "/manifests/sha256:"},
		{"immutable tag", http.MethodPut, "/manifests/latest-"},
		{"signature", http.MethodPut, ".sig"},
		{"moving tag", http.MethodPut, "/manifests/latest"},
	} {
		t.Run(stop.name, func(t *testing.T) {
			repo := "alicorn/killed" + string(rune('a'+i))
			old := signedImage(t, "old\n", "")
			dOld, _ := old.Digest()
			_, _, err := p.Publish(ctx, old, addr+"/"+repo, "latest")
			require.NoError(t, err)

			// A proxy that holds the request the child is to die in.
			reached := make(chan struct{}, 1)
			hold := make(chan struct{})
			rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == stop.method && strings.Contains(r.URL.Path, stop.path) &&
					!(stop.path == "/manifests/latest" && strings.Contains(r.URL.Path, "latest-")) {
					select {
					case reached <- struct{}{}:
					default:
					}
					select { // until the child is killed
					case <-hold:
					case <-r.Context().Done():
					}
					return
				}
				rp.ServeHTTP(w, r)
			}))
			defer func() { close(hold); srv.Close() }()
			proxy := strings.TrimPrefix(srv.URL, "http://")

			cmd := exec.Command(os.Args[0], "-test.run=^TestPublishChild$", "-test.v")
			cmd.Env = append(os.Environ(), "ALICORN_PUBLISH_CHILD="+proxy+"/"+repo, "ALICORN_PUBLISH_KEY="+keyPath, "ALICORN_PUBLISH_PASS="+passPath)
			out := &strings.Builder{}
			cmd.Stdout, cmd.Stderr = out, out
			require.NoError(t, cmd.Start())
			select {
			case <-reached:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the child never reached the %s: %s", stop.name, out)
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			_ = cmd.Wait()
			assert.Equal(t, dOld, tagDigest(t, addr+"/"+repo+":latest"), "killed at the %s: the moving tag did not move", stop.name)

			img := signedImage(t, "new\n", dOld.String())
			d, _ := img.Digest()
			_, imm, err := p.Publish(ctx, img, addr+"/"+repo, "latest")
			require.NoError(t, err)
			assert.Equal(t, "latest-2", imm)
			assert.Equal(t, d, tagDigest(t, addr+"/"+repo+":latest"))
			// (Killed after signing, the child's signatures name the proxy.)
			assert.Subset(t, readSignatures(t, addr+"/"+repo, d, pubPath), []string{addr + "/" + repo + ":latest", addr + "/" + repo + ":latest-2"})
		})
	}
}

// TestPublishChild is TestPublishKilled's child: it publishes the "new"
// image until it is killed. Run by itself, it does nothing (and does not
// skip: CI counts skips).
func TestPublishChild(t *testing.T) {
	repo := os.Getenv("ALICORN_PUBLISH_CHILD")
	if repo == "" {
		return
	}
	s, err := LoadSigner(os.Getenv("ALICORN_PUBLISH_KEY"), os.Getenv("ALICORN_PUBLISH_PASS"))
	require.NoError(t, err)
	img := signedImage(t, "new\n", tagDigest(t, repo+":latest").String())
	_, _, err = (&Publisher{Insecure: true, Signer: s}).Publish(context.Background(), img, repo, "latest")
	t.Fatalf("not killed: %v", err)
}
