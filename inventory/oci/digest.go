package oci

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrDigest is wrapped by errors for blobs whose contents do not match
// the digest the image names them by, in whatever algorithm it names
// (sha256, sha512), or whose algorithm cannot be checked.
var ErrDigest = errors.New("digest mismatch")

// hasher returns the hash of want's algorithm; an algorithm that cannot
// be checked is an ErrDigest: what is not verified is not read.
func hasher(what string, want v1.Hash) (hash.Hash, error) {
	h, err := v1.Hasher(want.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %w", what, want, ErrDigest, err)
	}
	return h, nil
}

// checkDigest checks that b is what want names; what ("manifest",
// "configuration", "blob") and want name it in the error.
func checkDigest(what string, want v1.Hash, b []byte) error {
	h, err := hasher(what, want)
	if err != nil {
		return err
	}
	h.Write(b)
	return compareSum(what, want, h)
}

// compareSum compares a hash of the contents with want.
func compareSum(what string, want v1.Hash, h hash.Hash) error {
	if got := hex.EncodeToString(h.Sum(nil)); got != want.Hex {
		return fmt.Errorf("%s %s: %w: its contents are %s:%s", what, want, ErrDigest, want.Algorithm, got)
	}
	return nil
}

// checkedBlob reads a blob while a goroutine hashes it from a second
// reader of the same bytes (on another core: hashing a layer on the
// reading one would add about 1 s per GB); reading it to the end fails
// with an ErrDigest unless its bytes are what want names.
type checkedBlob struct {
	r    io.Reader
	stop chan struct{} // closed by Close: the hashing ends early
	done chan error    // the hash's verdict, sent once
	once sync.Once     // Close
	got  bool          // the verdict was received
	err  error
}

// checkBlob returns r, checked against want by hashing shadow, which
// must hold the same bytes. Close ends the hashing goroutine.
func checkBlob(what string, want v1.Hash, r, shadow io.Reader) (io.ReadCloser, error) {
	h, err := hasher(what, want)
	if err != nil {
		return nil, err
	}
	c := &checkedBlob{r: r, stop: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 256<<10)
		for {
			select {
			case <-c.stop:
				c.done <- errors.New("closed before the end")
				return
			default:
			}
			n, err := shadow.Read(buf)
			h.Write(buf[:n])
			switch {
			case err == io.EOF:
				c.done <- compareSum(what, want, h)
				return
			case err != nil:
				c.done <- fmt.Errorf("%s %s: %w", what, want, err)
				return
			}
		}
	}()
	return c, nil
}

// verdict waits for the hash.
func (c *checkedBlob) verdict() error {
	if !c.got {
		c.err, c.got = <-c.done, true
	}
	return c.err
}

func (c *checkedBlob) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if err == io.EOF {
		if err := c.verdict(); err != nil {
			return n, err
		}
	}
	return n, err
}

// Close stops the hashing and waits for its goroutine to end.
func (c *checkedBlob) Close() error {
	c.once.Do(func() {
		close(c.stop)
		c.verdict()
	})
	return nil
}
