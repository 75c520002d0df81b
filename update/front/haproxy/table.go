package haproxy

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// row is one line of a table the runtime API prints, by column name.
type row map[string]string

// int64 returns a counter; an empty or absent one is 0.
func (r row) int64(col string) int64 {
	n, _ := strconv.ParseInt(r[col], 10, 64)
	return n
}

// table parses a table HAProxy prints: a header line "# name1 name2…"
// (after an optional version line) and rows split as the header by sep
// ("," for show stat's CSV, " " for show servers state). HAProxy's error
// message, printed instead of a table, is the error.
func table(out, sep string) ([]row, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "# ") {
			continue
		}
		head := strings.Split(strings.TrimPrefix(l, "# "), sep)
		var rows []row
		for _, l := range lines[i+1:] {
			if l == "" {
				continue
			}
			r := row{}
			for j, v := range strings.Split(l, sep) {
				if j < len(head) {
					r[head[j]] = v
				}
			}
			rows = append(rows, r)
		}
		return rows, nil
	}
	return nil, fmt.Errorf("no table: %s", oneLine(out))
}

// stats returns the servers' rows of "show stat BACKEND 4 -1" (type 4:
// servers only; -1: all of them), by server name.
func (f Front) stats(ctx context.Context) (map[string]row, error) {
	cmd := "show stat " + f.Backend + " 4 -1"
	out, err := run(ctx, f.Socket, cmd)
	if err != nil {
		return nil, err
	}
	rows, err := table(out, ",")
	if err != nil {
		return nil, fmt.Errorf("haproxy runtime API %s: %s: %w", f.Socket, cmd, err)
	}
	m := map[string]row{}
	for _, r := range rows {
		if r["pxname"] == f.Backend {
			m[r["svname"]] = r
		}
	}
	return m, nil
}
