//go:build !unix

package index

import "io"

func mapSection(r io.ReaderAt, off, length int64) ([]byte, func(), error) {
	return readSection(r, off, length)
}
