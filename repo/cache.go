package repo

import (
	"os"

	"github.com/alicorn-dev/alicorn/advisory/index"
	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// The prefixes of the temporary files a run creates (see
// internal/tempfile: the process ID follows each), removed when done
// with; those a killed run left behind are swept by the next run.
const (
	// tempDownload is a download in progress in a cache directory.
	tempDownload = ".download-"
	// tempDownloadNoCache is one in the system's temporary directory,
	// when there is no cache.
	tempDownloadNoCache = "alicorn-download-"
	// tempWrite is a small file (repomd.xml, baseurl) being replaced.
	tempWrite = ".tmp-"
)

// sweep removes from the repository's cache directory the temporary
// files of runs that are gone (killed before their cleanups ran): one
// read of the directory, skipped when another run is sweeping it.
func (m *Metadata) sweep() {
	if m.cache != "" {
		_ = tempfile.Sweep(m.cache, tempDownload, tempWrite, index.TempPrefix, index.TempCorePrefix)
	}
}

// createDownload creates the file a download goes to: in dir, or when
// dir is "", in the system's temporary directory, after sweeping there
// the downloads of runs that are gone.
func createDownload(dir string) (*os.File, error) {
	if dir != "" {
		return os.CreateTemp(dir, tempfile.Pattern(tempDownload))
	}
	_ = tempfile.Sweep(os.TempDir(), tempDownloadNoCache)
	return os.CreateTemp("", tempfile.Pattern(tempDownloadNoCache))
}
