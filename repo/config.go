package repo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is one repository's configuration.
type Config struct {
	ID   string
	Name string
	// BaseURLs are tried in order; Metalink and Mirrorlist, when set,
	// supply more.
	BaseURLs   []string
	Metalink   string
	Mirrorlist string
	Enabled    bool
	// SkipIfUnavailable lets a repository that cannot be fetched be left
	// out instead of failing the run (dnf's skip_if_unavailable).
	SkipIfUnavailable bool
	// ModuleHotfixes exempts the repository's packages from modular
	// filtering (dnf's module_hotfixes).
	ModuleHotfixes bool
	Priority       int
	Cost           int
	// GPGCheck and GPGKeys are dnf's gpgcheck and gpgkey: whether the
	// repository's packages must be signed, and the URLs of the keys.
	GPGCheck bool
	GPGKeys  []string
	// Network holds the repository's own download options (timeout,
	// minrate, retries, throttle, bandwidth); those it leaves unset are
	// the Fetcher's, or [main]'s once merged with Network.Or.
	Network
	// Origin is the file (and line) the repository was defined in.
	Origin string
}

// Vars are dnf's substitution variables ($releasever, $basearch, ...).
type Vars map[string]string

// Expand substitutes $name, ${name}, ${name:-default} and ${name:+alt}
// as dnf does; unknown variables are left as written.
func (v Vars) Expand(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteByte(s[i])
				continue
			}
			expr := s[i+2 : i+end]
			name, op, word := expr, "", ""
			if k := strings.Index(expr, ":-"); k >= 0 {
				name, op, word = expr[:k], ":-", expr[k+2:]
			} else if k := strings.Index(expr, ":+"); k >= 0 {
				name, op, word = expr[:k], ":+", expr[k+2:]
			}
			val, ok := v[name]
			switch {
			case op == ":-" && (!ok || val == ""):
				b.WriteString(v.Expand(word))
			case op == ":+":
				if ok && val != "" {
					b.WriteString(v.Expand(word))
				}
			case ok:
				b.WriteString(val)
			default:
				b.WriteString(s[i : i+end+1])
			}
			i += end
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if val, ok := v[s[i+1:j]]; ok && j > i+1 {
			b.WriteString(val)
		} else {
			b.WriteString(s[i:j])
		}
		i = j - 1
	}
	return b.String()
}

// BaseArch maps a machine architecture to dnf's $basearch.
func BaseArch(arch string) string {
	switch arch {
	case "i386", "i486", "i586", "i686", "athlon", "geode", "pentium3", "pentium4":
		return "i386"
	case "amd64", "x86_64", "ia32e":
		return "x86_64"
	case "arm64", "aarch64":
		return "aarch64"
	case "ppc64le", "ppc64p7":
		return "ppc64le"
	case "armv7l", "armv7hl", "armv6l", "armhfp":
		return "armhfp"
	}
	return arch
}

// ParseConfig reads the repository sections of a .repo file. name labels
// errors. Option names are dnf's; those this package has no use for are
// accepted and ignored.
func ParseConfig(r io.Reader, name string, vars Vars) ([]Config, error) {
	var out []Config
	var cur *Config
	var key string // last option, for continuation lines
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			key = ""
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil && key == "baseurl" {
				cur.BaseURLs = append(cur.BaseURLs, SplitList(vars.Expand(trimmed))...)
				continue
			}
			if key != "" {
				continue // continuation of an option we ignore
			}
		}
		if trimmed[0] == '[' {
			if !strings.HasSuffix(trimmed, "]") {
				return nil, fmt.Errorf("%s:%d: bad section header %q", name, n, trimmed)
			}
			id := vars.Expand(strings.TrimSpace(trimmed[1 : len(trimmed)-1]))
			if id == "" {
				return nil, fmt.Errorf("%s:%d: empty section name", name, n)
			}
			key = ""
			if id == "main" {
				cur = nil
				continue
			}
			out = append(out, Config{ID: id, Enabled: true, Priority: 99, Cost: 1000, Origin: fmt.Sprintf("%s:%d", name, n)})
			cur = &out[len(out)-1]
			continue
		}
		k, v, ok := strings.Cut(trimmed, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected option = value, got %q", name, n, trimmed)
		}
		key = strings.ToLower(strings.TrimSpace(k))
		v = vars.Expand(strings.TrimSpace(v))
		if cur == nil {
			continue // [main] or options before any section
		}
		var err error
		switch key {
		case "name":
			cur.Name = v
		case "baseurl":
			cur.BaseURLs = SplitList(v)
		case "metalink":
			cur.Metalink = v
		case "mirrorlist":
			cur.Mirrorlist = v
		case "enabled":
			cur.Enabled, err = ParseBool(v)
		case "skip_if_unavailable":
			cur.SkipIfUnavailable, err = ParseBool(v)
		case "module_hotfixes":
			cur.ModuleHotfixes, err = ParseBool(v)
		case "priority":
			cur.Priority, err = strconv.Atoi(v)
		case "cost":
			cur.Cost, err = strconv.Atoi(v)
		case "gpgcheck":
			cur.GPGCheck, err = ParseBool(v)
		case "gpgkey":
			cur.GPGKeys = SplitList(v)
		default:
			_, err = cur.Network.Set(key, v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: option %s: %w", name, n, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// Network holds dnf's download options, which dnf.conf's [main] section
// (or --setopt) sets for every repository and a repository may set for
// itself. A zero field is unset, unless Set set it to zero: IsSet tells,
// and Or keeps such an explicit zero over the default, as dnf keeps a
// repository's own throttle=0 over [main]'s.
type Network struct {
	// Timeout and MinRate are the low-speed limit (dnf's timeout, in
	// seconds, and minrate, in bytes with an optional k, M or G): a
	// transfer receiving less than MinRate bytes a second for Timeout,
	// waiting for the response headers included, is abandoned.
	Timeout time.Duration
	MinRate int64
	// Retries is dnf's retries: how many retries a download makes once
	// every URL has been tried. dnf's retries=0 (for metadata, librepo
	// then tries each mirror once) is stored as a negative number: none.
	Retries int
	// Throttle caps the download speed in bytes a second (dnf's throttle
	// in its absolute form, with an optional k, M or G). dnf's other
	// form, a percentage such as 50%, is kept in ThrottlePercent and is
	// that share of Bandwidth (dnf's bandwidth): without a Bandwidth it
	// throttles nothing, as in dnf. Zero means no throttling.
	Throttle        int64
	ThrottlePercent float64
	Bandwidth       int64

	// zero marks the options Set set to zero (netTimeout, ...).
	zero uint8
}

// Network's option bits, for Network.zero.
const (
	netTimeout uint8 = 1 << iota
	netMinRate
	netRetries
	netThrottle
	netBandwidth
)

// netBit is the bit of the Network option key, 0 for none.
func netBit(key string) uint8 {
	switch key {
	case "timeout":
		return netTimeout
	case "minrate":
		return netMinRate
	case "retries":
		return netRetries
	case "throttle":
		return netThrottle
	case "bandwidth":
		return netBandwidth
	}
	return 0
}

// IsSet reports whether the option key (timeout, minrate, retries,
// throttle or bandwidth) is set: non-zero, or set to zero by Set.
// throttle is set by either of its forms.
func (n Network) IsSet(key string) bool {
	var v bool
	switch key {
	case "timeout":
		v = n.Timeout != 0
	case "minrate":
		v = n.MinRate != 0
	case "retries":
		v = n.Retries != 0
	case "throttle":
		v = n.Throttle != 0 || n.ThrottlePercent != 0
	case "bandwidth":
		v = n.Bandwidth != 0
	default:
		return false
	}
	return v || n.zero&netBit(key) != 0
}

// Set sets the option key (a dnf option name, lower case) from its
// value as written in dnf.conf, a .repo file or --setopt. It reports
// whether key is a Network option; an unknown key is no error.
func (n *Network) Set(key, value string) (bool, error) {
	var err error
	switch key {
	case "timeout":
		n.Timeout, err = parseSeconds(value)
	case "minrate":
		n.MinRate, err = ParseSize(value)
	case "retries":
		var r int
		r, err = strconv.Atoi(value)
		switch {
		case err != nil || r < 0:
			err = fmt.Errorf("%q is not a number of retries", value)
		case r == 0:
			n.Retries = -1
		default:
			n.Retries = r
		}
	case "throttle":
		if pct, ok := strings.CutSuffix(value, "%"); ok {
			var f float64
			f, err = strconv.ParseFloat(strings.TrimSpace(pct), 64)
			if err != nil || f < 0 || f > 100 {
				err = fmt.Errorf("%q is not a percentage", value)
			}
			n.Throttle, n.ThrottlePercent = 0, f
		} else {
			n.Throttle, err = ParseSize(value)
			n.ThrottlePercent = 0
		}
	case "bandwidth":
		n.Bandwidth, err = ParseSize(value)
	default:
		return false, nil
	}
	bit := netBit(key)
	n.zero &^= bit
	if err == nil && !n.IsSet(key) {
		n.zero |= bit
	}
	return true, err
}

// Or returns n with the options it leaves unset (see IsSet) taken from
// def: a repository's options over [main]'s. An option set to zero stays
// zero. Throttle and ThrottlePercent go together: a repository that sets
// either form sets throttle.
func (n Network) Or(def Network) Network {
	take := func(key string) bool {
		if n.IsSet(key) {
			return false
		}
		n.zero |= def.zero & netBit(key)
		return true
	}
	if take("timeout") {
		n.Timeout = def.Timeout
	}
	if take("minrate") {
		n.MinRate = def.MinRate
	}
	if take("retries") {
		n.Retries = def.Retries
	}
	if take("throttle") {
		n.Throttle, n.ThrottlePercent = def.Throttle, def.ThrottlePercent
	}
	if take("bandwidth") {
		n.Bandwidth = def.Bandwidth
	}
	return n
}

// MaxSpeed is the throttle in bytes a second, 0 for none: Throttle, or
// ThrottlePercent of Bandwidth.
func (n Network) MaxSpeed() int64 {
	if n.Throttle > 0 {
		return n.Throttle
	}
	return int64(n.ThrottlePercent / 100 * float64(n.Bandwidth))
}

// Main is what is read of a dnf.conf's [main] section.
type Main struct {
	// Network holds the download options, for every repository.
	Network
	// Excludes are the package globs of excludepkgs (and of its other
	// name, exclude), in the order written.
	Excludes []string
}

// ParseMain reads a dnf.conf's [main] section: the download options and
// the excludes. name labels errors. Other options and sections are
// ignored, and so are option names written in another case, as dnf
// ignores them (Timeout is not timeout). A bad value does not stop the
// reading: ParseMain returns all it read, with the error of the first.
func ParseMain(r io.Reader, name string) (Main, error) {
	var m Main
	var first error
	section := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for i := 1; sc.Scan(); i++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "main" {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "excludepkgs" || k == "exclude" {
			m.Excludes = append(m.Excludes, SplitList(v)...)
			continue
		}
		if _, err := m.Network.Set(k, v); err != nil && first == nil {
			first = fmt.Errorf("%s:%d: option %s: %w", name, i, k, err)
		}
	}
	if err := sc.Err(); err != nil && first == nil {
		first = fmt.Errorf("%s: %w", name, err)
	}
	return m, first
}

// SplitList splits a dnf list option's value at commas and white space.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// ParseBool reads a dnf boolean: 1, yes, true, on or 0, no, false, off,
// in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

// parseSeconds reads a duration as dnf does: a number of seconds, or
// with a unit s, m, h or d.
func parseSeconds(s string) (time.Duration, error) {
	unit := time.Second
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 's', 'S':
			num = s[:n-1]
		case 'm', 'M':
			unit, num = time.Minute, s[:n-1]
		case 'h', 'H':
			unit, num = time.Hour, s[:n-1]
		case 'd', 'D':
			unit, num = 24*time.Hour, s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, fmt.Errorf("%q is not a number of seconds", s)
	}
	return time.Duration(f * float64(unit)), nil
}

// ParseSize reads a byte count as dnf does: a number, or with a unit
// k, M or G (powers of 1024).
func ParseSize(s string) (int64, error) {
	mult := 1.0
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, num = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, num = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, num = 1<<30, s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || f < 0 || f*mult > 1<<62 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return int64(f * mult), nil
}

// LoadDir reads every *.repo file in dir, in name order, as dnf does. A
// missing directory holds no repositories.
func LoadDir(dir string, vars Vars) ([]Config, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.repo"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Config
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		cs, err := ParseConfig(fh, f, vars)
		fh.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// LoadVars reads dnf variable files (one variable per file, its first
// line the value) from dirs such as /etc/dnf/vars into v.
func LoadVars(v Vars, dirs ...string) error {
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(d, e.Name()))
			if err != nil {
				return err
			}
			line, _, _ := strings.Cut(string(b), "\n")
			v[e.Name()] = strings.TrimSpace(line)
		}
	}
	return nil
}

// FromPath is a repository given as --repofrompath=ID,URL. A URL without
// a scheme is a local path.
func FromPath(spec string) (Config, error) {
	id, u, ok := strings.Cut(spec, ",")
	if !ok || id == "" || u == "" {
		return Config{}, fmt.Errorf("--repofrompath %q: expected ID,URL", spec)
	}
	if !strings.Contains(u, "://") {
		abs, err := filepath.Abs(u)
		if err != nil {
			return Config{}, err
		}
		u = "file://" + abs
	}
	return Config{ID: id, Name: id, BaseURLs: []string{u}, Enabled: true, Priority: 99, Cost: 1000,
		Origin: "--repofrompath"}, nil
}
