package gate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/alicorn-dev/alicorn/module"
)

// healthy polls the health path until it answers 200 with h.Expect in
// its body, until h.Timeout, or until the container ends.
func (p *Podman) healthy(ctx context.Context, rep *Report, h module.Health) error {
	if rep.URL == "" {
		return fmt.Errorf("no 200 from %s: %s", h.Path, p.state(ctx, rep.Container))
	}
	u := rep.URL + h.Path
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, h.Timeout.Duration)
	defer cancel()
	var last error
	for {
		rctx, rcancel := context.WithTimeout(ctx, max(h.Interval.Duration, time.Second))
		status, body, err := p.get(rctx, u, 1<<20)
		rcancel()
		switch {
		case err != nil:
			if last == nil || ctx.Err() == nil {
				last = err
			}
		case status != http.StatusOK:
			last = fmt.Errorf("%d %s", status, http.StatusText(status))
		case h.Expect != "" && !bytes.Contains(body, []byte(h.Expect)):
			last = fmt.Errorf("200 without %q in its %d bytes", h.Expect, len(body))
		default:
			return nil
		}
		if ctx.Err() == nil {
			if why := p.state(ctx, rep.Container); why != "" {
				return fmt.Errorf("no 200 from %s: %s: %w", u, why, last)
			}
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return fmt.Errorf("no 200 from %s: %w", u, parent.Err())
			}
			return fmt.Errorf("no 200 from %s within %s: %w", u, h.Timeout.Duration, last)
		case <-time.After(h.Interval.Duration):
		}
	}
}

// get fetches u and returns its status and up to limit bytes of its
// body.
func (p *Podman) get(ctx context.Context, u string, limit int64) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := p.client().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp.StatusCode, body, err
}

// compare fetches every regular file under dir by its path relative to
// dir and compares it byte for byte, each within timeout. Every file is
// compared; the error names the first that differs.
func (p *Podman) compare(ctx context.Context, rep *Report, dir string, timeout time.Duration) error {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("test content: %w", err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("test content %s holds no files", dir)
	}
	var first error
	failed := 0
	for _, path := range paths {
		want, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("test content: %w", err)
		}
		rel, _ := filepath.Rel(dir, path)
		f := File{Path: "/" + filepath.ToSlash(rel), Size: int64(len(want))}
		u := rep.URL + (&url.URL{Path: f.Path}).EscapedPath()
		rctx, cancel := context.WithTimeout(ctx, timeout)
		status, got, err := p.get(rctx, u, int64(len(want))+1)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.Served = int64(len(got))
		switch {
		case err != nil:
			f.Err = err.Error()
		case status != http.StatusOK:
			f.Err = fmt.Sprintf("%d %s", status, http.StatusText(status))
		default:
			f.Err = differ(got, want, path)
		}
		rep.Files = append(rep.Files, f)
		if f.Err != "" {
			failed++
			if first == nil {
				first = fmt.Errorf("%s: %s", f.Path, f.Err)
			}
		}
	}
	if failed > 1 {
		return fmt.Errorf("%w (and %d more of %d files)", first, failed-1, len(paths))
	}
	return first
}

// differ says how got differs from want, the file at path ("" when they
// are equal).
func differ(got, want []byte, path string) string {
	if bytes.Equal(got, want) {
		return ""
	}
	at := 0
	for at < len(got) && at < len(want) && got[at] == want[at] {
		at++
	}
	served := fmt.Sprintf("%d bytes", len(got))
	if len(got) > len(want) {
		served = fmt.Sprintf("more than %d bytes", len(want))
	}
	return fmt.Sprintf("%s served differ from %s (%d bytes) at byte %d", served, path, len(want), at)
}
