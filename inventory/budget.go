package inventory

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrBudget is wrapped by the errors of Budget.Take: holding more would
// pass the run's budget.
var ErrBudget = errors.New("over budget")

// Budget is an allowance of bytes shared by every reader of a run: what
// image flattening and extractors hold in memory (file contents, nested
// archives, entry lists), or what they write to temporary files. Readers
// take what they are about to hold and give it back when they let it go,
// so that the whole run stays within the budget however many images and
// archives it reads at once. A nil *Budget allows anything.
//
// A Budget is safe for concurrent use.
type Budget struct {
	what  string
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes (none if limit is 0 or less);
// what names it in errors ("memory", "disk").
func NewBudget(what string, limit int64) *Budget {
	return &Budget{what: what, limit: max(limit, 0)}
}

// Take reserves n bytes, or returns an error wrapping ErrBudget and
// reserves nothing.
func (b *Budget) Take(n int64) error {
	if b == nil || n <= 0 {
		return nil
	}
	for {
		used := b.used.Load()
		if n > b.limit-used {
			return fmt.Errorf("%s more would pass the %s budget of %s (%s in use): %w",
				Size(n), b.what, Size(b.limit), Size(used), ErrBudget)
		}
		if b.used.CompareAndSwap(used, used+n) {
			return nil
		}
	}
}

// Give returns n bytes taken before.
func (b *Budget) Give(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// Limit returns the budget's size in bytes; Used what is taken now.
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// Used returns the bytes taken and not given back.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Size prints a byte count in binary units: "512 B",
// "1.5 MiB", "16 GiB".
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), -1
	for f >= unit && i < 5 {
		f /= unit
		i++
	}
	s := fmt.Sprintf("%.1f", f)
	if s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + " " + "KMGTPE"[i:i+1] + "iB"
}
