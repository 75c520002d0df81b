package dnfcompat

import "testing"

func TestStripDebug(t *testing.T) {
	in := "DNF version: 4.14.0\n" +
		"r0                                              462 kB/s | 1.6 kB     00:00    \n" +
		"r1                                              316 kB/s | 775  B     00:00    \n" +
		"ADV-1 bugfix libX11-2.0-1.i686 1970-01-01 05:30:00\n"
	if got, want := stripDebug(in), "ADV-1 bugfix libX11-2.0-1.i686 1970-01-01 05:30:00\n"; got != want {
		t.Errorf("stripDebug = %q, want %q", got, want)
	}
}
