package front

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzReadState(f *testing.F) {
	f.Add([]byte(`{"version":1,"backends":[{"name":"a","addr":"127.0.0.1:1","health":{"path":"/","interval":"200ms","timeout":"5s"}}]}`))
	f.Add([]byte(`{"version":2}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "state.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := readState(p)
		if err != nil {
			return
		}
		if st.Version != 1 {
			t.Fatalf("accepted version %d", st.Version)
		}
		for _, b := range st.Backends {
			_ = b.Backend()
			_ = b.Health.Health()
		}
	})
}
