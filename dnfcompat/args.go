package dnfcompat

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// option is one command-line option as argparse defines it.
type option struct {
	names []string // "-q", "--quiet"
	value bool     // takes an argument
	dest  string
	split bool // the value is split at commas and white space
}

var options = []option{
	{names: []string{"-c", "--config"}, value: true, dest: "config"},
	{names: []string{"-q", "--quiet"}, dest: "quiet"},
	{names: []string{"-v", "--verbose"}, dest: "verbose"},
	{names: []string{"--version"}, dest: "version"},
	{names: []string{"--installroot"}, value: true, dest: "installroot"},
	{names: []string{"--nodocs"}, dest: "ignored"},
	{names: []string{"--noplugins"}, dest: "ignored"},
	{names: []string{"--enableplugin"}, value: true, dest: "ignored"},
	{names: []string{"--disableplugin"}, value: true, dest: "ignored"},
	{names: []string{"--releasever"}, value: true, dest: "releasever"},
	{names: []string{"--setopt"}, value: true, dest: "setopt"},
	{names: []string{"--skip-broken"}, dest: "ignored"},
	{names: []string{"-h", "--help", "--help-cmd"}, dest: "help"},
	{names: []string{"--allowerasing"}, dest: "ignored"},
	{names: []string{"-b", "--best"}, dest: "ignored"},
	{names: []string{"--nobest"}, dest: "ignored"},
	{names: []string{"-C", "--cacheonly"}, dest: "cacheonly"},
	{names: []string{"-R", "--randomwait"}, value: true, dest: "ignored"},
	{names: []string{"-d", "--debuglevel"}, value: true, dest: "ignored"},
	{names: []string{"--debugsolver"}, dest: "ignored"},
	{names: []string{"--showduplicates"}, dest: "ignored"},
	{names: []string{"-e", "--errorlevel"}, value: true, dest: "ignored"},
	{names: []string{"--obsoletes"}, dest: "ignored"},
	{names: []string{"--rpmverbosity"}, value: true, dest: "ignored"},
	{names: []string{"-y", "--assumeyes"}, dest: "ignored"},
	{names: []string{"--assumeno"}, dest: "ignored"},
	{names: []string{"--enablerepo"}, value: true, dest: "enablerepo"},
	{names: []string{"--disablerepo"}, value: true, dest: "disablerepo"},
	{names: []string{"--repo", "--repoid"}, value: true, dest: "repo", split: true},
	{names: []string{"--enable"}, dest: "ignored"},
	{names: []string{"--disable"}, dest: "ignored"},
	{names: []string{"-x", "--exclude", "--excludepkgs"}, value: true, dest: "exclude", split: true},
	{names: []string{"--disableexcludes", "--disableexcludepkgs"}, value: true, dest: "disableexcludes", split: true},
	{names: []string{"--repofrompath"}, value: true, dest: "repofrompath"},
	{names: []string{"--noautoremove"}, dest: "ignored"},
	{names: []string{"--nogpgcheck"}, dest: "ignored"},
	{names: []string{"--color"}, value: true, dest: "ignored"},
	{names: []string{"--refresh"}, dest: "refresh"},
	{names: []string{"-4"}, dest: "ignored"},
	{names: []string{"-6"}, dest: "ignored"},
	{names: []string{"--destdir", "--downloaddir"}, value: true, dest: "ignored"},
	{names: []string{"--downloadonly"}, dest: "ignored"},
	{names: []string{"--comment"}, value: true, dest: "ignored"},
	{names: []string{"--bugfix"}, dest: "bugfix"},
	{names: []string{"--enhancement"}, dest: "enhancement"},
	{names: []string{"--newpackage"}, dest: "newpackage"},
	{names: []string{"--security"}, dest: "security"},
	{names: []string{"--advisory", "--advisories"}, value: true, dest: "advisory", split: true},
	{names: []string{"--bz", "--bzs"}, value: true, dest: "bz", split: true},
	{names: []string{"--cve", "--cves"}, value: true, dest: "cve", split: true},
	{names: []string{"--sec-severity", "--secseverity"}, value: true, dest: "severity", split: true},
	{names: []string{"--forcearch"}, value: true, dest: "forcearch"},
	// updateinfo's own options.
	{names: []string{"--available"}, dest: "available"},
	{names: []string{"--installed"}, dest: "installed"},
	{names: []string{"--updates"}, dest: "updates"},
	{names: []string{"--all"}, dest: "all"},
	{names: []string{"--summary"}, dest: "summary"},
	{names: []string{"--list"}, dest: "list"},
	{names: []string{"--info"}, dest: "info"},
	{names: []string{"--with-cve"}, dest: "with-cve"},
	{names: []string{"--with-bz"}, dest: "with-bz"},
	// Extensions (not in dnf).
	{names: []string{"--with-links"}, dest: "with-links"},
	{names: []string{"--json"}, dest: "json"},
	{names: []string{"--fail-on"}, value: true, dest: "fail-on"},
	{names: []string{"--image"}, value: true, dest: "image"},
	{names: []string{"--image-repos"}, dest: "image-repos"},
	{names: []string{"--modules-dir"}, value: true, dest: "modules-dir"},
	{names: []string{"--module-packages"}, dest: "module-packages"},
	{names: []string{"--podman-modules"}, dest: "podman-modules"},
	{names: []string{"--kube-modules"}, dest: "kube-modules"},
	{names: []string{"--kubeconfig"}, value: true, dest: "kubeconfig"},
	{names: []string{"--kube-namespace"}, value: true, dest: "kube-namespace"},
	{names: []string{"--osv"}, value: true, dest: "osv"},
	{names: []string{"--osv-rpm-owned"}, dest: "osv-rpm-owned"},
	{names: []string{"--max-memory"}, value: true, dest: "max-memory"},
	{names: []string{"--max-disk"}, value: true, dest: "max-disk"},
	{names: []string{"--tempdir"}, value: true, dest: "tempdir"},
}

// usageError is a command-line error: dnf exits 1 with "Command line error".
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// parsed is the command line, option by option.
type parsed struct {
	flags      map[string]bool
	values     map[string][]string
	positional []string
	// order records the availability and output options in the order
	// given, for argparse's mutually exclusive groups.
	order []string
}

var splitter = regexp.MustCompile(`\s*[,\s]\s*`)

func lookupOption(name string) (*option, error) {
	for i := range options {
		for _, n := range options[i].names {
			if n == name {
				return &options[i], nil
			}
		}
	}
	if !strings.HasPrefix(name, "--") {
		return nil, usagef("unrecognized arguments: %s", name)
	}
	// argparse accepts a unique prefix of a long option.
	var hits []*option
	var spelled []string
	for i := range options {
		for _, n := range options[i].names {
			if strings.HasPrefix(n, name) {
				hits = append(hits, &options[i])
				spelled = append(spelled, n)
			}
		}
	}
	switch len(hits) {
	case 0:
		return nil, usagef("unrecognized arguments: %s", name)
	case 1:
		return hits[0], nil
	}
	sort.Strings(spelled)
	return nil, usagef("ambiguous option: %s could match %s", name, strings.Join(spelled, ", "))
}

func parseArgs(args []string) (*parsed, error) {
	p := &parsed{flags: map[string]bool{}, values: map[string][]string{}}
	set := func(o *option, v string, hasValue bool) error {
		if !o.value {
			if hasValue {
				return usagef("argument %s: ignored explicit argument '%s'", o.names[len(o.names)-1], v)
			}
			p.flags[o.dest] = true
			switch o.dest {
			case "available", "installed", "updates", "all", "summary", "list", "info":
				p.order = append(p.order, o.dest)
			}
			return nil
		}
		if o.dest == "severity" {
			// argparse checks choices before the split.
			switch v {
			case "Critical", "Important", "Moderate", "Low":
			default:
				return usagef("argument --sec-severity/--secseverity: invalid choice: '%s' (choose from 'Critical', 'Important', 'Moderate', 'Low')", v)
			}
		}
		if o.split {
			for i, x := range splitter.Split(v, -1) {
				if i == 0 || x != "" {
					p.values[o.dest] = append(p.values[o.dest], x)
				}
			}
			return nil
		}
		p.values[o.dest] = append(p.values[o.dest], v)
		return nil
	}
	// next takes the argument after i as o's value, as argparse does: one
	// that looks like an option is not a value.
	next := func(i *int, o *option) (string, error) {
		if *i+1 >= len(args) || (strings.HasPrefix(args[*i+1], "-") && len(args[*i+1]) > 1) {
			return "", usagef("argument %s: expected one argument", strings.Join(o.names, "/"))
		}
		*i++
		return args[*i], nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			p.positional = append(p.positional, args[i+1:]...)
			return p, nil
		case strings.HasPrefix(a, "--"):
			name, v, hasValue := strings.Cut(a, "=")
			o, err := lookupOption(name)
			if err != nil {
				return nil, err
			}
			if o.value && !hasValue {
				if v, err = next(&i, o); err != nil {
					return nil, err
				}
			}
			if err := set(o, v, hasValue); err != nil {
				return nil, err
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// One or more short options, the last maybe with a value.
			for j := 1; j < len(a); j++ {
				o, err := lookupOption("-" + a[j:j+1])
				if err != nil {
					return nil, err
				}
				if !o.value {
					if err := set(o, "", false); err != nil {
						return nil, err
					}
					continue
				}
				v := a[j+1:]
				if v == "" {
					if v, err = next(&i, o); err != nil {
						return nil, err
					}
				}
				if err := set(o, v, false); err != nil {
					return nil, err
				}
				break
			}
		default:
			p.positional = append(p.positional, a)
		}
	}
	return p, nil
}
