package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const journalText = `{"time":"2026-11-30T10:00:00Z","op":"begin","from":{"id":"a","digest":"sha256:aa"},"to":{"id":"b","digest":"sha256:bb"},"policy":"rolling"}
{"time":"2026-11-30T10:00:01Z","op":"start","container":"web-1","name":"web-1--bb"}
{"time":"2026-11-30T10:00:02Z","op":"add","container":"web-1","id":"c1"}
`

func TestReadJournal(t *testing.T) {
	s := &State{Dir: t.TempDir()}
	u, err := s.ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u, "no journal: nothing unfinished")

	write := func(text string) {
		require.NoError(t, os.WriteFile(filepath.Join(s.Dir, "web.journal"), []byte(text), 0o644))
	}
	write(journalText)
	u, err = s.ReadJournal("web")
	require.NoError(t, err)
	require.NotNil(t, u)
	assert.Equal(t, "sha256:aa", u.From.Digest)
	assert.Equal(t, "sha256:bb", u.To.Digest)
	assert.False(t, u.Committed)
	assert.Len(t, u.Records, 3)

	// A torn last line (killed while writing it) is ignored.
	write(journalText + `{"time":"2026-11-30T10:00:03Z","op":"dr`)
	u, err = s.ReadJournal("web")
	require.NoError(t, err)
	assert.Len(t, u.Records, 3)

	write(journalText + `{"op":"commit"}` + "\n")
	u, err = s.ReadJournal("web")
	require.NoError(t, err)
	assert.True(t, u.Committed)

	write(journalText + `{"op":"rollback","detail":"watch: web-1 exited"}` + "\n")
	u, err = s.ReadJournal("web")
	require.NoError(t, err)
	assert.True(t, u.RollingBack)
	assert.Equal(t, "watch: web-1 exited", u.Reason)

	write(journalText + `{"op":"end","detail":"committed"}` + "\n")
	u, err = s.ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u, "an ended journal is finished")

	// A torn first line: nothing had begun.
	write(`{"time":"2026-11`)
	u, err = s.ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u)

	// Damage before the last line is an error naming the file and line.
	write(strings.Replace(journalText, `"op":"start"`, `"op":start`, 1))
	_, err = s.ReadJournal("web")
	assert.ErrorContains(t, err, filepath.Join(s.Dir, "web.journal")+":2")
}

func FuzzReadJournal(f *testing.F) {
	f.Add([]byte(journalText))
	f.Add([]byte(journalText + `{"op":"commit"}` + "\n"))
	f.Add([]byte(`{"op":"begin"}` + "\n" + `{"op":"rollback","detail":"x"}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &State{Dir: dir}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "m.journal"), b, 0o644))
		u, err := s.ReadJournal("m")
		if err != nil || u == nil {
			return
		}
		if len(u.Records) == 0 || u.Records[0].Op != "begin" {
			t.Fatalf("an unfinished journal that does not begin with begin: %+v", u.Records)
		}
		for _, r := range u.Records {
			if r.Op == "end" {
				t.Fatal("an ended journal reported unfinished")
			}
		}
	})
}

func FuzzState(f *testing.F) {
	f.Add([]byte(`{"module":"web","current":{"id":"a","digest":"sha256:aa"},"previous":{"id":"b","digest":"sha256:bb"}}`), []byte(`[{"digest":"sha256:cc","reason":"x"}]`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, deployed, failed []byte) {
		s := &State{Dir: dir}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "m.json"), deployed, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "m.failed"), failed, 0o644))
		s.Deployed("m")
		fs, err := s.Failures("m")
		if err == nil {
			for _, x := range fs {
				if got, err := s.Failed("m", x.Digest); err != nil || got == nil {
					t.Fatalf("failure %q listed but not found: %v", x.Digest, err)
				}
			}
		}
	})
}
