package alicorn

import (
	"os"

	"github.com/alicorn-dev/alicorn/inventory"
)

// Limits bound what one run holds in memory and writes to temporary
// files, over every image and archive it reads together (the root's
// image and all the modules'), whatever they hold: a nested-archive bomb
// or an image of millions of entries fails its part of the report with
// an error naming it instead of exhausting the machine.
//
// With the defaults a run stays under about 400 MB of memory (resident
// set): the budget is what the readers hold; the Go runtime, the
// repositories' metadata and the OSV feeds come on top.
type Limits struct {
	// Memory bounds the images' lists of entries, the file contents kept
	// in memory and the zip directories and nested archives inflated in
	// memory (0 means DefaultMemory; less than 0, no bound). An image
	// whose list of entries passes it cannot be read; a file whose
	// contents would pass it is not read, with a warning naming it.
	Memory int64
	// Disk bounds the temporary files: large files of images kept on disk
	// for their readers (jars, rpm databases) and nested archives
	// inflated to disk (0 means DefaultDisk; less than 0, no bound). A
	// file that would pass it is not read, with a warning naming it.
	Disk int64
	// TempDir is where the temporary files go ("" means os.TempDir()).
	TempDir string
}

// The default Limits.
const (
	DefaultMemory = 192 << 20
	DefaultDisk   = 4 << 30
)

// budgets returns the run's budgets for these limits.
func (l Limits) budgets() inventory.Limits {
	budget := func(what string, n, def int64) *inventory.Budget {
		switch {
		case n < 0:
			return nil
		case n == 0:
			n = def
		}
		return inventory.NewBudget(what, n)
	}
	lim := inventory.Limits{
		Memory:  budget("memory", l.Memory, DefaultMemory),
		Disk:    budget("disk", l.Disk, DefaultDisk),
		TempDir: l.TempDir,
	}
	if lim.TempDir == "" {
		lim.TempDir = os.TempDir()
	}
	return lim
}
