package rpmdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

const sqliteMagic = "SQLite format 3\x00"

type sqliteDB struct{ db *sql.DB }

// openSQLite opens rpmdb.sqlite read-only without writing beside it: with
// immutable=1 when there is no write-ahead log to honour, so read-only
// trees (images, test data) work; otherwise read-only with the log.
func openSQLite(path string) (*sqliteDB, error) {
	// mmap_size: read pages through a mapping, not one pread each (the
	// read of a 2,000-package database takes half the time).
	q := url.Values{"mode": {"ro"}, "_pragma": {"mmap_size(268435456)"}}
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
		q.Set("immutable", "1")
	}
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &sqliteDB{db: db}, nil
}

func (s *sqliteDB) each(ctx context.Context, fn func(key uint32, blob []byte) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT hnum, blob FROM Packages")
	if err != nil {
		return fmt.Errorf("querying Packages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		var blob sql.RawBytes
		if err := rows.Scan(&k, &blob); err != nil {
			return fmt.Errorf("reading Packages: %w", err)
		}
		if err := fn(uint32(k), blob); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading Packages: %w", err)
	}
	return nil
}

func (s *sqliteDB) Close() error { return s.db.Close() }
