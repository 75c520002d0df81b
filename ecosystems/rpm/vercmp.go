package rpm

import "strings"

// Vercmp compares two version (or release) strings the way rpm 4.18's
// rpmvercmp and libsolv's solv_vercmp_rpm do: it returns -1, 0 or 1.
//
// Strings are split into runs of ASCII digits and ASCII letters; any other
// byte separates runs. '~' sorts before everything (even the end of the
// string), '^' sorts after the end of the string but before anything else.
// Digit runs compare numerically (leading zeros ignored, any length) and are
// newer than letter runs; letter runs compare as bytes.
//
// It is written here rather than taken from a library because no Go library
// matched rpm on the generated cross-checks in the tests (the caret rule and
// the separator handling are where they differ).
func Vercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		// Tilde sorts before everything else, the end of the string included.
		if i < len(a) && a[i] == '~' || j < len(b) && b[j] == '~' {
			if i >= len(a) || a[i] != '~' {
				return 1
			}
			if j >= len(b) || b[j] != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		// Caret sorts after the end of the string, before anything else.
		if i < len(a) && a[i] == '^' || j < len(b) && b[j] == '^' {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if a[i] != '^' {
				return 1
			}
			if b[j] != '^' {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		isNum := isDigit(a[i])
		if isNum {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		one, two := a[si:i], b[sj:j]
		if two == "" {
			// Segments of different kinds: numbers are newer than letters.
			if isNum {
				return 1
			}
			return -1
		}
		if isNum {
			one = strings.TrimLeft(one, "0")
			two = strings.TrimLeft(two, "0")
			if len(one) != len(two) {
				if len(one) > len(two) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(one, two); c != 0 {
			return c
		}
	}
	if i >= len(a) && j >= len(b) {
		return 0
	}
	if i >= len(a) {
		return -1
	}
	return 1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
