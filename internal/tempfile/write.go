package tempfile

import (
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path with data durably: it writes a
// temporary file of this process (Pattern(prefix), so that Sweep clears
// one left by a crash) beside it, syncs it, renames it over path and
// syncs the directory. A reader sees the old file or the new one, never
// half of one, even after a crash.
func WriteFile(path string, data []byte, prefix string) error {
	f, err := os.CreateTemp(filepath.Dir(path), Pattern(prefix))
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // the rename survives a crash
		d.Close()
	}
	return nil
}
