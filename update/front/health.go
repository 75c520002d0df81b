package front

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// WaitHealthy polls the backend at addr (HOST:PORT) with c until it
// answers as h says (a GET of h.Path answering 200, with h.Expect in its
// body when set), every h.Interval, for at most h.Timeout. Defaults: path
// "/", every 200ms, for 30s. The error names the last failed probe.
func WaitHealthy(ctx context.Context, c *http.Client, addr string, h Health) error {
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Interval <= 0 {
		h.Interval = 200 * time.Millisecond
	}
	if h.Timeout <= 0 {
		h.Timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	u := "http://" + addr + h.Path
	for {
		last := probe(ctx, c, u, h.Expect)
		if last == nil {
			return nil
		}
		t := time.NewTimer(h.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("not healthy within %v: %w", h.Timeout, last)
		case <-t.C:
		}
	}
}

// probe GETs u once and checks the answer.
func probe(ctx context.Context, c *http.Client, u, expect string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if expect != "" && !strings.Contains(string(body), expect) {
		return fmt.Errorf("GET %s: 200 without %q", u, expect)
	}
	return nil
}

// Probe runs h's check once against addr (HOST:PORT).
func Probe(ctx context.Context, c *http.Client, addr string, h Health) error {
	if h.Path == "" {
		h.Path = "/"
	}
	return probe(ctx, c, "http://"+addr+h.Path, h.Expect)
}
