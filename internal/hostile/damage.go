package hostile

import (
	"fmt"
	"os"
)

// Damage is one way to damage a file in place, as a crash, a full disk
// or bad storage might: Apply changes the file at path.
type Damage struct {
	Name  string
	Apply func(path string) error
}

// Damages returns the kinds of damage a cache file is checked against:
// cut to half its size, emptied, zeroed over its whole length, and one
// byte flipped near its start, in its middle and near its end.
func Damages() []Damage {
	return []Damage{
		{"truncated", func(p string) error { return Truncate(p, 0.5) }},
		{"empty", func(p string) error { return Truncate(p, 0) }},
		{"zeroed", Zero},
		{"byte flipped near the start", func(p string) error { return Flip(p, 2) }},
		{"byte flipped in the middle", func(p string) error { return FlipAt(p, 0.5) }},
		{"byte flipped near the end", func(p string) error { return Flip(p, -20) }},
	}
}

// Truncate cuts the file at path to fraction (0 to 1) of its size.
func Truncate(path string, fraction float64) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.Truncate(path, int64(float64(info.Size())*fraction))
}

// Flip inverts the bits of the byte at offset at of the file at path;
// a negative offset counts from the end. Offsets past the file are
// brought within it.
func Flip(path string, at int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	n := info.Size()
	if n == 0 {
		return fmt.Errorf("%s: empty: no byte to flip", path)
	}
	if at < 0 {
		at += n
	}
	at = min(max(at, 0), n-1)
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		return err
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		return err
	}
	return f.Close()
}

// FlipAt flips the byte at fraction (0 to 1) of the file's size.
func FlipAt(path string, fraction float64) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return Flip(path, int64(float64(info.Size())*fraction))
}

// Zero overwrites the whole file at path with zeros, keeping its size.
func Zero(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for off := int64(0); off < info.Size(); off += 1 << 16 {
		if _, err := f.WriteAt(make([]byte, min(1<<16, info.Size()-off)), off); err != nil {
			return err
		}
	}
	return f.Close()
}
