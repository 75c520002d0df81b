package trust

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePolicy(t *testing.T) {
	ok := []string{
		`{"default": [{"type": "insecureAcceptAnything"}]}`,
		`{"default": [{"type": "reject"}], "transports": {}}`,
		`{"default": [{"type": "reject"}], "transports": {"docker": {"r.example.com": [
		  {"type": "sigstoreSigned", "keyPath": "/k.pub", "signedIdentity": {"type": "matchRepository"}}]}}}`,
		`{"default": [{"type": "sigstoreSigned", "keyPaths": ["/a", "/b"]}]}`,
		`{"default": [{"type": "sigstoreSigned", "keyData": "AAAA", "signedIdentity": {"type": "exactReference", "dockerReference": "r.example.com/a:1"}}]}`,
		`{"default": [{"type": "sigstoreSigned", "keyDatas": ["AAAA"], "signedIdentity": {"type": "exactRepository", "dockerRepository": "r.example.com/a"}}]}`,
		`{"default": [{"type": "sigstoreSigned", "keyPath": "/k", "signedIdentity": {"type": "remapIdentity", "prefix": "mirror.example.com", "signedPrefix": "r.example.com/a"}}]}`,
		// Fedora's default: signedBy scopes parse (and refuse their images).
		`{"default": [{"type": "insecureAcceptAnything"}], "transports": {
		  "docker": {"registry.access.redhat.com": [{"type": "signedBy", "keyType": "GPGKeys", "keyPaths": ["/etc/pki/rpm-gpg/RPM-GPG-KEY-redhat-release"]}]},
		  "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}}}`,
		`{"default": [{"type": "sigstoreSigned", "fulcio": {"caPath": "/ca"}, "rekorPublicKeyPath": "/r"}]}`,
	}
	for _, s := range ok {
		_, err := ParsePolicy([]byte(s))
		assert.NoError(t, err, s)
	}
	bad := map[string]string{
		``:                               "unexpected end of JSON input",
		`[]`:                             "cannot unmarshal array",
		`null`:                           "not null",
		`{}`:                             `no "default"`,
		`{"default": []}`:                "default: no requirements",
		`{"default": null}`:              "default: no requirements",
		`{"default": [{"type": "foo"}]}`: `unknown requirement type "foo"`,
		`{"default": [{}]}`:              `unknown requirement type ""`,
		`{"default": [{"type": "reject", "x": 1}]}`:                                                                                                                 `unknown key "x"`,
		`{"default": [{"type": "reject"}], "other": 1}`:                                                                                                             `unknown key "other"`,
		`{"default": [{"type": "reject"}], "default": [{"type": "reject"}]}`:                                                                                        `duplicate key "default"`,
		`{"default": [{"type": "reject", "type": "reject"}]}`:                                                                                                       `duplicate key "type"`,
		`{"default": [{"type": "reject"}], "transports": {"docker": {"a": []}}}`:                                                                                    `transports.docker["a"]: no requirements`,
		`{"default": [{"type": "reject"}], "transports": {"docker": null}}`:                                                                                         "transports.docker: want a JSON object",
		`{"default": [{"type": "sigstoreSigned"}]}`:                                                                                                                 "exactly one of keyPath",
		`{"default": [{"type": "sigstoreSigned", "keyPath": "/a", "keyData": "AAAA"}]}`:                                                                             "exactly one of keyPath",
		`{"default": [{"type": "sigstoreSigned", "keyPath": ""}]}`:                                                                                                  "empty key",
		`{"default": [{"type": "sigstoreSigned", "keyPaths": []}]}`:                                                                                                 "empty key",
		`{"default": [{"type": "sigstoreSigned", "keyPaths": ["/a", ""]}]}`:                                                                                         "empty key",
		`{"default": [{"type": "sigstoreSigned", "KeyPath": "/a"}]}`:                                                                                                `unknown key "KeyPath"`,
		`{"default": [{"type": "sigstoreSigned", "keyPath": "/a", "signedIdentity": {"type": "x"}}]}`:                                                               `unknown type "x"`,
		`{"default": [{"type": "sigstoreSigned", "keyPath": "/a", "signedIdentity": {"type": "exactReference"}}]}`:                                                  "exactReference wants dockerReference",
		`{"default": [{"type": "sigstoreSigned", "keyPath": "/a", "signedIdentity": {"type": "exactReference", "dockerReference": "r.example.com/a"}}]}`:            "neither tag nor digest",
		`{"default": [{"type": "sigstoreSigned", "keyPath": "/a", "signedIdentity": {"type": "matchExact", "dockerReference": "r.example.com/a:1"}}]}`:              `unknown key "dockerReference"`,
		`{"default": [{"type": "sigstoreSigned", "keyPath": "/a", "signedIdentity": {"type": "remapIdentity", "prefix": "a/b", "signedPrefix": "r.example.com"}}]}`: `prefix "a/b"`,
		`{"default": [{"type": "reject"}]} {}`:                                                                                                                      "invalid character",
	}
	for s, want := range bad {
		_, err := ParsePolicy([]byte(s))
		if assert.Error(t, err, s) {
			assert.Contains(t, err.Error(), want, s)
			assert.True(t, strings.HasPrefix(err.Error(), "policy policy.json: "), err.Error())
		}
	}
}

func TestLoadPolicy(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.json")
	require.NoError(t, os.WriteFile(huge, []byte(`{"default": [{"type": "reject"}], "x": "`+strings.Repeat("a", MaxPolicySize)+`"}`), 0o644))
	_, err := LoadPolicy(huge)
	assert.ErrorContains(t, err, huge+": larger than 1048576 bytes")

	garbage := filepath.Join(dir, "garbage.json")
	require.NoError(t, os.WriteFile(garbage, []byte("\x00\xff{{{"), 0o644))
	_, err = LoadPolicy(garbage)
	assert.ErrorContains(t, err, "policy "+garbage+": invalid character")

	_, err = LoadPolicy(filepath.Join(dir, "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "missing.json")

	deep := filepath.Join(dir, "deep.json")
	require.NoError(t, os.WriteFile(deep, []byte(strings.Repeat("[", 100000)), 0o644))
	_, err = LoadPolicy(deep)
	assert.ErrorContains(t, err, "policy "+deep)
}

func TestScopes(t *testing.T) {
	n, err := parseName("reg.example.com:5000/ns/app:1.0")
	require.NoError(t, err)
	assert.Equal(t, []string{"reg.example.com:5000/ns/app:1.0", "reg.example.com:5000/ns/app", "reg.example.com:5000/ns",
		"reg.example.com:5000", "*.example.com", "*.com"}, n.scopes())

	n, err = parseName("busybox")
	require.NoError(t, err)
	assert.Equal(t, imageName{repo: "docker.io/library/busybox"}, n)
	n, err = parseName("docker.io/library/busybox@sha256:" + strings.Repeat("0", 64))
	require.NoError(t, err)
	assert.Equal(t, []string{"docker.io/library/busybox@sha256:" + strings.Repeat("0", 64), "docker.io/library/busybox", "docker.io/library", "docker.io", "*.io"}, n.scopes())

	for s, want := range map[string]string{
		"index.docker.io/library/busybox:1": "docker.io/library/busybox:1",
		"docker.io/busybox":                 "docker.io/library/busybox",
		"user/app":                          "docker.io/user/app",
		"localhost/app":                     "localhost/app",
		"localhost:5000/a/b:c":              "localhost:5000/a/b:c",
	} {
		n, err := parseName(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, n.String(), s)
	}

	for _, bad := range []string{"", "UPPER/case", "a@sha256:123", "r.example.com/a:b:c", "r.example.com/a:" + strings.Repeat("t", 200)} {
		_, err := parseName(bad)
		assert.Error(t, err, bad)
	}
}

// TestScopePrecedence: the most specific scope applies, not the
// strictest; "" before default. No signature is needed, so no registry.
func TestScopePrecedence(t *testing.T) {
	p, err := ParsePolicy([]byte(`{"default": [{"type": "reject"}], "transports": {"docker": {
		"r.example.com/ns/app:ok": [{"type": "insecureAcceptAnything"}],
		"r.example.com/ns/app": [{"type": "reject"}],
		"r.example.com/ns": [{"type": "insecureAcceptAnything"}],
		"r.example.com": [{"type": "reject"}],
		"*.example.com": [{"type": "insecureAcceptAnything"}],
		"*.org": [{"type": "reject"}],
		"": [{"type": "insecureAcceptAnything"}],
		"gpg.example.com": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k"}],
		"fulcio.example.com": [{"type": "sigstoreSigned", "fulcio": {"caPath": "/ca"}, "rekorPublicKeyPath": "/r"}],
		"both.example.com": [{"type": "insecureAcceptAnything"}, {"type": "reject"}]},
		"docker-archive": {"": [{"type": "reject"}]}}}`))
	require.NoError(t, err)
	ctx := context.Background()
	for image, want := range map[string]string{
		"r.example.com/ns/app:ok":                     `transports.docker["r.example.com/ns/app:ok"]`,
		"r.example.com/ns/app:bad":                    `-transports.docker["r.example.com/ns/app"]`,
		"r.example.com/ns/other":                      `transports.docker["r.example.com/ns"]`,
		"docker://r.example.com/x":                    `-transports.docker["r.example.com"]`,
		"m.example.com/x":                             `transports.docker["*.example.com"]`,
		"a.b.example.org:5000/x":                      `-transports.docker["*.org"]`,
		"quay.io/x@sha256:" + strings.Repeat("1", 64): `transports.docker[""]`,
		"gpg.example.com/x":                           `-transports.docker["gpg.example.com"]`,
		"both.example.com/x":                          `-transports.docker["both.example.com"]`,
	} {
		res, err := p.Verify(ctx, image, Options{})
		if rejected, ok := strings.CutPrefix(want, "-"); ok {
			var rerr *RejectedError
			if assert.ErrorAs(t, err, &rerr, image) {
				assert.Equal(t, rejected, rerr.Scope, image)
				assert.Equal(t, image, rerr.Image)
				assert.Equal(t, "policy.json", rerr.Policy)
			}
			continue
		}
		if assert.NoError(t, err, image) {
			assert.Equal(t, want, res.Scope, image)
			assert.Empty(t, res.Digest)
		}
	}
	_, err = p.Verify(ctx, "gpg.example.com/x", Options{})
	assert.ErrorContains(t, err, "policy policy.json (transports.docker[\"gpg.example.com\"]) rejects gpg.example.com/x: requirement 1 (signedBy): not supported (only sigstoreSigned with public keys is)")
	_, err = p.Verify(ctx, "fulcio.example.com/x", Options{})
	assert.ErrorContains(t, err, "requirement 1 (sigstoreSigned): sigstoreSigned with fulcio is not supported")

	// Without transports.docker, default applies.
	p, err = ParsePolicy([]byte(`{"default": [{"type": "insecureAcceptAnything"}], "transports": {"atomic": {"": [{"type": "reject"}]}}}`))
	require.NoError(t, err)
	res, err := p.Verify(ctx, "r.example.com/a", Options{})
	require.NoError(t, err)
	assert.Equal(t, "default", res.Scope)

	_, err = p.Verify(ctx, "r.example.com/a:1@sha256:"+strings.Repeat("1", 64), Options{})
	assert.ErrorContains(t, err, "both a tag and a digest")
	_, err = p.Verify(ctx, "Bad Name", Options{})
	assert.False(t, errors.As(err, new(*RejectedError)))
	assert.ErrorContains(t, err, `verify Bad Name: reference "Bad Name"`)
}

func TestIdentityMatches(t *testing.T) {
	const d = "@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	parse := func(s string) imageName {
		n, err := parseName(s)
		require.NoError(t, err)
		return n
	}
	exactRef := identityMatch{typ: "exactReference", ref: parse("r.example.com/a:v1")}
	exactRepo := identityMatch{typ: "exactRepository", ref: parse("r.example.com/a")}
	remap := identityMatch{typ: "remapIdentity", prefix: "mirror.example.com/m", signedPrefix: "r.example.com"}
	for _, c := range []struct {
		id            identityMatch
		image, signed string
		want          bool
	}{
		{identityMatch{typ: "matchRepoDigestOrExact"}, "r.example.com/a:v1", "r.example.com/a:v1", true},
		{identityMatch{typ: "matchRepoDigestOrExact"}, "r.example.com/a:v1", "r.example.com/a:v2", false},
		{identityMatch{typ: "matchRepoDigestOrExact"}, "r.example.com/a" + d, "r.example.com/a:v2", true},
		{identityMatch{typ: "matchRepoDigestOrExact"}, "r.example.com/a" + d, "r.example.com/b:v2", false},
		{identityMatch{typ: "matchRepoDigestOrExact"}, "r.example.com/a" + d, "r.example.com/a", false},
		{identityMatch{typ: "matchRepoDigestOrExact"}, "busybox:latest", "docker.io/library/busybox:latest", true},
		{identityMatch{typ: "matchExact"}, "r.example.com/a:v1", "r.example.com/a:v1", true},
		{identityMatch{typ: "matchExact"}, "r.example.com/a" + d, "r.example.com/a:v1", false},
		{identityMatch{typ: "matchExact"}, "r.example.com/a" + d, "r.example.com/a" + d, true},
		{identityMatch{typ: "matchRepository"}, "r.example.com/a:v1", "r.example.com/a", true},
		{identityMatch{typ: "matchRepository"}, "r.example.com/a:v1", "r.example.com/ab:v1", false},
		{exactRef, "other.example.com/x:1", "r.example.com/a:v1", true},
		{exactRef, "other.example.com/x:1", "r.example.com/a:v2", false},
		{exactRepo, "other.example.com/x:1", "r.example.com/a:v9", true},
		{exactRepo, "other.example.com/x:1", "r.example.com/b:v9", false},
		{remap, "mirror.example.com/m/a:v1", "r.example.com/a:v1", true},
		{remap, "mirror.example.com/m/a" + d, "r.example.com/a:v1", true},
		{remap, "mirror.example.com/m/a:v1", "mirror.example.com/m/a:v1", false},
		{remap, "mirror.example.com/mm/a:v1", "mirror.example.com/mm/a:v1", true},
		{identityMatch{typ: "matchRepoDigestOrExact"}, "r.example.com/a:v1", "not a reference", false},
	} {
		assert.Equal(t, c.want, c.id.matches(parse(c.image), c.signed), "%s: %s signed %s", c.id.typ, c.image, c.signed)
	}
}

// FuzzParsePolicy: any input is parsed or refused with an error naming
// the file, without panicking, and a parsed policy is evaluated.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(`{"default": [{"type": "reject"}], "transports": {"docker": {"r.example.com": [{"type": "sigstoreSigned", "keyPath": "/k", "signedIdentity": {"type": "remapIdentity", "prefix": "m.example.com", "signedPrefix": "r.example.com"}}], "": [{"type": "insecureAcceptAnything"}]}}}`))
	f.Add([]byte(`{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyData": "AA=="}], "transports": {"docker": {"*.example.com": [{"type": "sigstoreSigned", "keyDatas": ["AA=="]}]}}}`))
	f.Add([]byte(`{"default": [{"type": "reject", "type": "x"}]}`))
	f.Add([]byte(`[[[{"a":{"b":[1,"x",{"c":null}]}}]]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy policy.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(p.def) == 0 {
			t.Fatal("parsed without default requirements")
		}
		for _, image := range []string{"r.example.com/a:1", "m.example.com/a:1", "busybox"} {
			n, err := parseName(image)
			if err != nil {
				t.Fatal(err)
			}
			if _, reqs := p.requirements(n); len(reqs) == 0 {
				t.Fatalf("no requirements for %s", image)
			}
		}
	})
}
