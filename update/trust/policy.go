package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MaxPolicySize is the largest policy file LoadPolicy reads.
const MaxPolicySize = 1 << 20

// Requirement types (policy.json "type").
const (
	typeAccept   = "insecureAcceptAnything"
	typeReject   = "reject"
	typeSigstore = "sigstoreSigned"
)

// Policy is a parsed containers policy (policy.json): see the package
// documentation for the subset evaluated.
type Policy struct {
	path   string                   // the file, for errors
	def    []requirement            // "default"
	docker map[string][]requirement // transports.docker by scope; nil when absent
}

// requirement is one policy requirement.
type requirement struct {
	typ         string
	unsupported string      // why it cannot be evaluated; "" when it can
	keys        []keySource // sigstoreSigned
	identity    identityMatch
}

// keySource is a public key of a sigstoreSigned requirement: a file
// (keyPath, keyPaths) or inline PEM (keyData, keyDatas).
type keySource struct {
	name string // the path, or keyData / keyDatas[I]
	path string
	data []byte
}

// identityMatch is a signedIdentity.
type identityMatch struct {
	typ          string
	ref          imageName // exactReference, exactRepository
	prefix       string    // remapIdentity
	signedPrefix string
}

// LoadPolicy reads and parses the policy file path (at most
// MaxPolicySize bytes). Errors name the file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := readFile(path, MaxPolicySize)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return parsePolicy(path, data)
}

// ParsePolicy parses a policy; errors call it policy.json.
func ParsePolicy(data []byte) (*Policy, error) {
	return parsePolicy("policy.json", data)
}

func parsePolicy(path string, data []byte) (*Policy, error) {
	p, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	p.path = path
	return p, nil
}

func parse(data []byte) (*Policy, error) {
	if err := noDuplicateKeys(data); err != nil {
		return nil, err
	}
	top, err := object(data, "default", "transports")
	if err != nil {
		return nil, err
	}
	def, ok := top["default"]
	if !ok {
		return nil, errors.New(`no "default" requirements`)
	}
	p := &Policy{}
	if p.def, err = requirements(def); err != nil {
		return nil, fmt.Errorf("default: %w", err)
	}
	tr, ok := top["transports"]
	if !ok {
		return p, nil
	}
	transports, err := object(tr)
	if err != nil {
		return nil, fmt.Errorf("transports: %w", err)
	}
	for _, t := range slices.Sorted(maps.Keys(transports)) {
		scopes, err := object(transports[t])
		if err != nil {
			return nil, fmt.Errorf("transports.%s: %w", t, err)
		}
		if t == "docker" {
			p.docker = map[string][]requirement{}
		}
		for _, s := range slices.Sorted(maps.Keys(scopes)) {
			reqs, err := requirements(scopes[s])
			if err != nil {
				return nil, fmt.Errorf("transports.%s[%q]: %w", t, s, err)
			}
			if t == "docker" {
				p.docker[s] = reqs
			}
		}
	}
	return p, nil
}

func requirements(data []byte) ([]requirement, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errors.New("no requirements")
	}
	reqs := make([]requirement, len(list))
	for i, raw := range list {
		r, err := parseRequirement(raw)
		if err != nil {
			return nil, fmt.Errorf("requirement %d: %w", i+1, err)
		}
		reqs[i] = r
	}
	return reqs, nil
}

func parseRequirement(data []byte) (requirement, error) {
	m, err := object(data)
	if err != nil {
		return requirement{}, err
	}
	r := requirement{typ: typeOf(m)}
	switch r.typ {
	case typeAccept, typeReject:
		_, err = object(data, "type")
	case "signedBy", "signedBaseLayer":
		r.unsupported = "not supported (only " + typeSigstore + " with public keys is)"
	case typeSigstore:
		err = r.parseSigstore(data)
	default:
		err = fmt.Errorf("unknown requirement type %q", r.typ)
	}
	return r, err
}

func (r *requirement) parseSigstore(data []byte) error {
	m, err := object(data, "type", "keyPath", "keyPaths", "keyData", "keyDatas", "signedIdentity",
		"fulcio", "pki", "rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData", "rekorPublicKeyDatas")
	if err != nil {
		return err
	}
	var s struct {
		KeyPath        string          `json:"keyPath"`
		KeyPaths       []string        `json:"keyPaths"`
		KeyData        []byte          `json:"keyData"`
		KeyDatas       [][]byte        `json:"keyDatas"`
		SignedIdentity json.RawMessage `json:"signedIdentity"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%s: %w", typeSigstore, err)
	}
	n := 0
	for _, k := range []string{"keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki"} {
		if _, ok := m[k]; ok {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s: want exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki", typeSigstore)
	}
	for _, k := range []string{"fulcio", "pki", "rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData", "rekorPublicKeyDatas"} {
		if _, ok := m[k]; ok && r.unsupported == "" {
			r.unsupported = fmt.Sprintf("%s with %s is not supported (only public keys)", typeSigstore, k)
		}
	}
	switch {
	case s.KeyPath != "":
		r.keys = []keySource{{name: s.KeyPath, path: s.KeyPath}}
	case s.KeyData != nil:
		r.keys = []keySource{{name: "keyData", data: s.KeyData}}
	case len(s.KeyPaths) > 0 && !slices.Contains(s.KeyPaths, ""):
		for _, p := range s.KeyPaths {
			r.keys = append(r.keys, keySource{name: p, path: p})
		}
	case len(s.KeyDatas) > 0:
		for i, d := range s.KeyDatas {
			r.keys = append(r.keys, keySource{name: fmt.Sprintf("keyDatas[%d]", i), data: d})
		}
	case r.unsupported == "":
		return fmt.Errorf("%s: empty key", typeSigstore)
	}
	r.identity = identityMatch{typ: "matchRepoDigestOrExact"}
	if s.SignedIdentity != nil {
		if r.identity, err = parseIdentity(s.SignedIdentity); err != nil {
			return fmt.Errorf("%s: signedIdentity: %w", typeSigstore, err)
		}
	}
	return nil
}

func parseIdentity(data []byte) (identityMatch, error) {
	m, err := object(data)
	if err != nil {
		return identityMatch{}, err
	}
	id := identityMatch{typ: typeOf(m)}
	var f struct {
		DockerReference  string `json:"dockerReference"`
		DockerRepository string `json:"dockerRepository"`
		Prefix           string `json:"prefix"`
		SignedPrefix     string `json:"signedPrefix"`
	}
	fields := map[string][]string{
		"matchExact": nil, "matchRepoDigestOrExact": nil, "matchRepository": nil,
		"exactReference":  {"dockerReference"},
		"exactRepository": {"dockerRepository"},
		"remapIdentity":   {"prefix", "signedPrefix"},
	}
	want, ok := fields[id.typ]
	if !ok {
		return id, fmt.Errorf("unknown type %q", id.typ)
	}
	if _, err := object(data, append(want, "type")...); err != nil {
		return id, err
	}
	if len(m) != len(want)+1 {
		return id, fmt.Errorf("%s wants %s", id.typ, strings.Join(want, " and "))
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return id, err
	}
	switch id.typ {
	case "exactReference":
		id.ref, err = parseName(f.DockerReference)
		if err == nil && id.ref.tag == "" && id.ref.digest == "" {
			err = fmt.Errorf("dockerReference %q has neither tag nor digest", f.DockerReference)
		}
	case "exactRepository":
		id.ref, err = parseName(f.DockerRepository)
	case "remapIdentity":
		id.prefix, id.signedPrefix = f.Prefix, f.SignedPrefix
		err = errors.Join(validPrefix(f.Prefix), validPrefix(f.SignedPrefix))
	}
	return id, err
}

// validPrefix checks a remapIdentity prefix: HOST[:PORT] or
// HOST[:PORT]/PATH, the host explicit (with a dot or a port, or
// localhost), without tag or digest.
func validPrefix(s string) error {
	host, _, _ := strings.Cut(s, "/")
	if strings.ContainsAny(s, "@") || strings.HasSuffix(s, "/") ||
		!(strings.ContainsAny(host, ".:") || host == "localhost") {
		return fmt.Errorf("prefix %q is not HOST or HOST/PATH", s)
	}
	var err error
	if host == s {
		_, err = name.NewRegistry(s)
	} else {
		_, err = name.NewRepository(s)
	}
	if err != nil {
		return fmt.Errorf("prefix %q: %w", s, err)
	}
	return nil
}

// typeOf returns the "type" string of an object, "" when none.
func typeOf(m map[string]json.RawMessage) string {
	var t string
	if json.Unmarshal(m["type"], &t) != nil {
		return ""
	}
	return t
}

// object parses a JSON object, with only the keys allowed when any are
// given (exactly, not ignoring case as encoding/json does).
func object(data []byte, allowed ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("want a JSON object, not null")
	}
	for k := range m {
		if len(allowed) > 0 && !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("unknown key %q", k)
		}
	}
	return m, nil
}

// noDuplicateKeys fails on an object with the same key twice, which
// encoding/json accepts (the last wins) and containers/image refuses.
func noDuplicateKeys(data []byte) error {
	type frame struct {
		keys    map[string]bool // nil for an array
		wantKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if s, ok := tok.(string); ok && len(stack) > 0 && stack[len(stack)-1].wantKey {
			top := stack[len(stack)-1]
			if top.keys[s] {
				return fmt.Errorf("duplicate key %q", s)
			}
			top.keys[s], top.wantKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].keys != nil {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// readFile reads at most max bytes of path; more is an error.
func readFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
}

// imageName is a normalized docker reference: repo is HOST/PATH
// (docker.io/library/NAME for Docker Hub's short names), tag and digest
// are "" when absent.
type imageName struct {
	repo, tag, digest string
}

// parseName parses a docker reference as containers/image normalizes it
// (reference.ParseNormalizedNamed), keeping whether it has a tag or a
// digest.
func parseName(s string) (imageName, error) {
	var n imageName
	rest, dig, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		h, err := v1.NewHash(dig)
		if err != nil {
			return n, fmt.Errorf("reference %q: %w", s, err)
		}
		n.digest = h.String()
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		n.tag, rest = rest[i+1:], rest[:i]
		if _, err := name.NewTag(rest + ":" + n.tag); err != nil {
			return n, fmt.Errorf("reference %q: %w", s, err)
		}
	}
	r, err := name.NewRepository(rest)
	if err != nil {
		return n, fmt.Errorf("reference %q: %w", s, err)
	}
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	n.repo = reg + "/" + r.RepositoryStr()
	return n, nil
}

// String returns HOST/PATH[:TAG][@DIGEST].
func (n imageName) String() string {
	s := n.repo
	if n.tag != "" {
		s += ":" + n.tag
	}
	if n.digest != "" {
		s += "@" + n.digest
	}
	return s
}

// scopes returns the policy scopes that apply to n, the most specific
// first (containers/image's PolicyConfigurationIdentity and
// PolicyConfigurationNamespaces for the docker transport): n itself,
// its repository and parent namespaces up to the host, and the wildcards
// of the host's parent domains.
func (n imageName) scopes() []string {
	s := []string{n.String()}
	ns := n.repo
	for {
		s = append(s, ns)
		i := strings.LastIndex(ns, "/")
		if i < 0 {
			break
		}
		ns = ns[:i]
	}
	host, _, _ := strings.Cut(ns, ":")
	for {
		i := strings.Index(host, ".")
		if i < 0 {
			break
		}
		host = host[i+1:]
		s = append(s, "*."+host)
	}
	return s
}

// requirements returns the requirements for n and their scope's name.
func (p *Policy) requirements(n imageName) (string, []requirement) {
	if p.docker != nil {
		for _, s := range append(n.scopes(), "") {
			if r, ok := p.docker[s]; ok {
				return fmt.Sprintf("transports.docker[%q]", s), r
			}
		}
	}
	return "default", p.def
}

// matches reports whether a signature claiming the identity signed
// (a docker reference) is accepted for the image n.
func (id identityMatch) matches(n imageName, signed string) bool {
	sig, err := parseName(signed)
	if err != nil {
		return false
	}
	nameOnly := func(n imageName) bool { return n.tag == "" && n.digest == "" }
	switch id.typ {
	case "matchExact":
		return !nameOnly(n) && !nameOnly(sig) && sig == n
	case "matchRepository":
		return sig.repo == n.repo
	case "exactReference":
		return !nameOnly(sig) && sig == id.ref
	case "exactRepository":
		return sig.repo == id.ref.repo
	case "remapIdentity":
		if n.repo == id.prefix || strings.HasPrefix(n.repo, id.prefix+"/") {
			if n, err = parseName(strings.Replace(n.String(), id.prefix, id.signedPrefix, 1)); err != nil {
				return false
			}
		}
	}
	// matchRepoDigestOrExact, and remapIdentity after the remapping.
	switch {
	case nameOnly(sig):
		return false
	case n.tag != "":
		return sig == n
	default:
		return n.digest != "" && sig.repo == n.repo
	}
}
