package loadgen_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/alicorn-dev/alicorn/internal/loadgen"
)

// A load of 200 requests a second for a tenth of a second, half of them
// on new connections, every body checked, split at a mark.
func Example() {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "It works")
	}))
	defer s.Close()
	g, err := loadgen.Start(context.Background(), loadgen.Config{URL: s.URL, Rate: 200, Duration: 100 * time.Millisecond,
		Expect: []byte("It works")})
	if err != nil {
		panic(err)
	}
	g.Mark("during") // an update starts
	res := g.Wait()
	fmt.Println(res.Total().Requests, "requests, error:", res.Err())
	// Output: 20 requests, error: <nil>
}
