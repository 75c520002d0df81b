package rollouttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Load sends GETs through the front until stopped, on new and kept-alive
// connections, and counts failures and wrong bodies.
type Load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

func StartLoad(url string, want []byte) *Load {
	l := &Load{stop: make(chan struct{})}
	for i := 0; i < 4; i++ {
		tr := &http.Transport{DisableKeepAlives: i%2 == 0}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				err := get(c, url, want)
				if err == nil {
					l.ok.Add(1)
					continue
				}
				l.failed.Add(1)
				l.mu.Lock()
				if len(l.errs) < 5 {
					l.errs = append(l.errs, err.Error())
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func get(c *http.Client, url string, want []byte) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s", resp.Status)
	}
	if !bytes.Equal(b, want) {
		return errors.New("wrong body")
	}
	return nil
}

func (l *Load) End(t *testing.T) {
	close(l.stop)
	l.wg.Wait()
	t.Logf("load: %d ok, %d failed %v", l.ok.Load(), l.failed.Load(), l.errs)
	assert.Zero(t, l.failed.Load(), "failed requests: %v", l.errs)
	assert.NotZero(t, l.ok.Load())
}
