package trust

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicorn-dev/alicorn/update/publish"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildOracle builds update/publish's testdata/sigverify: upstream
// containers/image's copy.Image under a policy, as podman pull runs it
// (see update/publish's sigverify_test.go; its own module, without cgo).
func buildOracle(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to build ../publish/testdata/sigverify")
	}
	src, err := filepath.Abs(filepath.Join("..", "publish", "testdata", "sigverify"))
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "sigverify")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-C", src, "-o", bin,
		"-tags", "containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,containers_image_storage_stub", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build sigverify: %v\n%s", err, out)
	}
	return bin
}

// oracle returns containers/image's decision on pulling image under the
// policy file, with use-sigstore-attachments on for the registry addr:
// "" when it accepts, its error when it refuses.
func oracle(t *testing.T, bin, addr, policy, image string) string {
	t.Helper()
	dir := t.TempDir()
	regd := filepath.Join(dir, "registries.d")
	require.NoError(t, os.Mkdir(regd, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(regd, "test.yaml"), []byte("docker:\n  "+addr+":\n    use-sigstore-attachments: true\n"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--policy", policy, "--registries-d", regd, "--insecure", "--timeout", "60s", "docker://"+image)
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + dir}
	out, err := cmd.CombinedOutput()
	if err == nil {
		require.Equal(t, "accepted", strings.TrimSpace(string(out)))
		return ""
	}
	require.IsType(t, &exec.ExitError{}, err, "sigverify: %s", out)
	require.Equal(t, 1, err.(*exec.ExitError).ExitCode(), "sigverify: %s", out)
	return strings.TrimSpace(string(out))
}

// TestOracle: for policies of every supported kind and images signed,
// unsigned, forged and mirrored, Verify decides as containers/image does.
func TestOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds containers/image")
	}
	bin := buildOracle(t)
	ctx := context.Background()
	f := newFixture(t)
	o := Options{Insecure: true}
	other := newKey(t)
	a := f.addr
	app := a + "/alicorn/app"

	repo := func(s string) name.Repository {
		r, err := name.NewRepository(s, name.Insecure)
		require.NoError(t, err)
		return r
	}
	// forged: the unsigned image, with the signed image's valid signature.
	good := f.payload(t, app+":latest", f.signedDigest)
	f.attach(t, f.unsignedDigest, sigLayer(good, f.key.sign(t, good)))
	forged := f.unsigned
	// mirror: the signed image and its attachment in another repository.
	img, err := remote.Image(repo(app).Digest(f.signedDigest.String()))
	require.NoError(t, err)
	mirror := a + "/mirror/alicorn/app"
	require.NoError(t, remote.Write(repo(mirror).Tag("latest"), img))
	sigs, err := remote.Image(repo(app).Tag("sha256-" + f.signedDigest.Hex + ".sig"))
	require.NoError(t, err)
	require.NoError(t, remote.Write(repo(mirror).Tag("sha256-"+f.signedDigest.Hex+".sig"), sigs))
	// tampered: a signature of other bytes.
	tamperedImg, err := remote.Image(repo(app).Tag("unsigned"))
	require.NoError(t, err)
	require.NoError(t, remote.Write(repo(a+"/alicorn/tampered").Tag("latest"), tamperedImg))
	mine := f.payload(t, a+"/alicorn/tampered:latest", f.unsignedDigest)
	f.attachTo(t, a+"/alicorn/tampered", f.unsignedDigest, sigLayer(mine, f.key.sign(t, []byte(strings.Replace(string(mine), "latest", "other", 1)))))

	// p1363: signed, the ECDSA signature encoded as IEEE P1363.
	require.NoError(t, remote.Write(repo(a+"/alicorn/p1363").Tag("latest"), tamperedImg))
	p1363 := f.payload(t, a+"/alicorn/p1363:latest", f.unsignedDigest)
	f.attachTo(t, a+"/alicorn/p1363", f.unsignedDigest, sigLayer(p1363, f.key.signP1363(t, p1363)))
	// plain: unsigned, no attachment at all.
	plain, err := random.Image(256, 1)
	require.NoError(t, err)
	require.NoError(t, remote.Write(repo(a+"/alicorn/plain").Tag("latest"), plain))

	images := []string{
		f.signed, app + ":latest", app + ":latest-1", forged, app + ":unsigned", a + "/alicorn/plain:latest",
		mirror + "@" + f.signedDigest.String(), mirror + ":latest",
		a + "/alicorn/tampered:latest", a + "/alicorn/p1363:latest",
	}

	sig := func(key string, id ...string) []any { return []any{sigstore(key, id...)} }
	accept := []any{map[string]any{"type": "insecureAcceptAnything"}}
	reject := []any{map[string]any{"type": "reject"}}
	policies := []map[string]any{
		{a: sig(f.key.pub)},
		{a: sig(other.pub)},
		{a: []any{map[string]any{"type": "sigstoreSigned", "keyPaths": []string{other.pub, f.key.pub}}}},
		{a: accept},
		{a: reject, "": accept},
		{app: accept, a: reject},
		{app: sig(f.key.pub), a: accept},
		{app + ":unsigned": accept, a: sig(f.key.pub)},
		{a: sig(f.key.pub, "matchExact")},
		{a: sig(f.key.pub, "matchRepository")},
		{a: sig(f.key.pub, "exactReference", "dockerReference", app+":latest-1")},
		{a: sig(f.key.pub, "exactRepository", "dockerRepository", app)},
		{"*.0.0.1": sig(f.key.pub), "": accept},
		{a + "/mirror": []any{map[string]any{"type": "sigstoreSigned", "keyPath": f.key.pub,
			"signedIdentity": map[string]any{"type": "remapIdentity", "prefix": a + "/mirror", "signedPrefix": a}}}, a: accept},
		{"": reject},
		{a: []any{map[string]any{"type": "signedBy", "keyType": "GPGKeys", "keyPath": f.key.pub}}},
	}
	// Ed25519, RSA and P-384 keys: each signs an image, accepted
	// under its key and refused under the others.
	for n, k := range keyTypes(t) {
		images = append(images, publishWith(t, k[0].(*publish.Signer), a+"/keys/"+n))
		policies = append(policies, map[string]any{a: sig(k[1].(string))})
	}

	agree := 0
	for i, scopes := range policies {
		path := writePolicy(t, map[string]any{"default": accept, "transports": map[string]any{"docker": scopes}})
		p, err := LoadPolicy(path)
		require.NoError(t, err)
		for _, image := range images {
			want := oracle(t, bin, a, path, image)
			_, err := p.Verify(ctx, image, o)
			if want == "" {
				assert.NoError(t, err, "policy %d %v, %s: containers/image accepts", i, scopes, image)
			} else if assert.Error(t, err, "policy %d %v, %s: containers/image refuses: %s", i, scopes, image, want) {
				assert.True(t, isRejected(err), "policy %d, %s: not a RejectedError: %v", i, image, err)
			}
			if (want == "") == (err == nil) {
				agree++
			}
			t.Logf("policy %d, %s: containers/image %q, Verify %v", i, image, want, err)
		}
	}
	t.Logf("%d decisions agree of %d", agree, len(policies)*len(images))
}
