package ecosystems_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
)

func TestSet(t *testing.T) {
	s, err := ecosystems.NewSet(rpm.Ecosystem{}, pypi.Ecosystem{})
	require.NoError(t, err)
	e, ok := s.ByOSV("PyPI")
	require.True(t, ok)
	assert.Equal(t, "pypi", e.Type())
	e, ok = s.ByType("rpm")
	require.True(t, ok)
	c, err := e.Compare("1:1.0-1", "2.0-1")
	require.NoError(t, err)
	assert.Equal(t, 1, c, "the epoch wins")
	assert.Len(t, s.Extractors(), 3, "rpmdb, and pypi's metadata and archives")
	_, err = ecosystems.NewSet(pypi.Ecosystem{}, pypi.Ecosystem{})
	assert.Error(t, err)
}
