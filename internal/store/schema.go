package store

import (
	"context"
	"database/sql"
	"fmt"
)

// appID marks a database as Netscanner's (PRAGMA application_id), so that
// another program's SQLite file is refused instead of being written into.
const appID = 0x4e534e48 // "NSNH"

// migration brings the schema from one version to the next inside the
// transaction it is given. migrations[i] goes from version i to i+1; the
// version is PRAGMA user_version. A future change of schema is one more
// function appended here, never an edit of an old one.
type migration func(ctx context.Context, tx *sql.Tx) error

func migrations() []migration {
	return []migration{migrateV1}
}

// schemaVersion is the version this program writes.
func schemaVersion() int { return len(migrations()) }

// migrateV1 creates the first schema.
//
// Size drives its shape: a year of 5-minute scans of 100 devices is ten
// million observations, so an observation is a handful of small integers
// in a WITHOUT ROWID table clustered by device and scan (a device's week
// is one contiguous range), and what changes rarely (address, names,
// identity) lives once in identities, referred to by number.
func migrateV1(ctx context.Context, tx *sql.Tx) error {
	const ddl = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE devices (
	id            INTEGER PRIMARY KEY,
	key           TEXT NOT NULL UNIQUE,      -- mac:… (first MAC) or ip:…
	mac           TEXT NOT NULL DEFAULT '',  -- MAC used last
	label         TEXT NOT NULL DEFAULT '',
	first_seen    INTEGER NOT NULL,          -- Unix ms
	last_seen     INTEGER NOT NULL,
	addr          TEXT NOT NULL DEFAULT '',
	hostname      TEXT NOT NULL DEFAULT '',
	names         TEXT NOT NULL DEFAULT '[]', -- JSON array
	vendor        TEXT NOT NULL DEFAULT '',
	kind          TEXT NOT NULL DEFAULT '',
	model         TEXT NOT NULL DEFAULT '',
	friendly_name TEXT NOT NULL DEFAULT '',
	services      TEXT NOT NULL DEFAULT '[]', -- JSON array
	present       INTEGER NOT NULL DEFAULT 0, -- answered the last scan that covered it
	misses        INTEGER NOT NULL DEFAULT 0, -- scans in a row that covered it and missed it
	identity_id   INTEGER                     -- its latest identities row
);

-- Every MAC a device has used; continuity links a new private MAC here.
CREATE TABLE device_macs (
	mac        TEXT PRIMARY KEY,
	device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	linked_by  TEXT NOT NULL DEFAULT ''   -- the evidence, when continuity linked it
) WITHOUT ROWID;
CREATE INDEX device_macs_device ON device_macs(device_id);

CREATE TABLE scans (
	id        INTEGER PRIMARY KEY,
	started   INTEGER NOT NULL,
	finished  INTEGER NOT NULL,
	targets   TEXT NOT NULL DEFAULT '',
	method    TEXT NOT NULL DEFAULT '',
	total     INTEGER NOT NULL DEFAULT 0,
	alive     INTEGER NOT NULL DEFAULT 0,
	cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX scans_started ON scans(started);

-- What a device said about itself, once per distinct set of values.
CREATE TABLE identities (
	id            INTEGER PRIMARY KEY,
	device_id     INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	digest        BLOB NOT NULL,
	addr          TEXT NOT NULL,
	mac           TEXT NOT NULL,
	hostname      TEXT NOT NULL,
	names         TEXT NOT NULL,  -- JSON array
	vendor        TEXT NOT NULL,
	kind          TEXT NOT NULL,
	model         TEXT NOT NULL,
	friendly_name TEXT NOT NULL,
	services      TEXT NOT NULL,  -- JSON array
	addrs         TEXT NOT NULL,  -- JSON array: every address of this sighting
	last_scan     INTEGER NOT NULL,
	UNIQUE (device_id, digest)
);

-- One row per device per scan that covered it. A present device has
-- its identity_id (and rtt_us when known); an absent one has neither.
-- Presence is not a column of its own: at ten million rows a year, the
-- byte it would take is 10 MB.
CREATE TABLE observations (
	device_id   INTEGER NOT NULL,
	scan_id     INTEGER NOT NULL,
	rtt_us      INTEGER,
	identity_id INTEGER,
	PRIMARY KEY (device_id, scan_id)
) WITHOUT ROWID;
`
	_, err := tx.ExecContext(ctx, ddl)
	return err
}

// migrate brings the database to schemaVersion, one transaction per
// step, and refuses a database that is not Netscanner's or is newer.
func (s *Store) migrate(ctx context.Context) error {
	ver, id, tables, err := s.version(ctx)
	if err != nil {
		return err
	}
	if err := checkIdentity(ver, id, tables); err != nil {
		return err
	}
	all := migrations()
	for v := ver; v < len(all); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrating to version %d: %w", v+1, err)
		}
		// Another process may have migrated while this one waited for
		// the write lock: read the version again inside the transaction.
		var cur int
		err = tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur)
		if err == nil && cur > v {
			_ = tx.Rollback()
			v = cur - 1
			continue
		}
		if err == nil {
			err = all[v](ctx, tx)
		}
		if err == nil {
			// PRAGMA takes no parameters; both values are ours.
			_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d; PRAGMA application_id = %d", v+1, appID))
		}
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("migrating to version %d: %w", v+1, err)
		}
	}
	return nil
}

// checkSchema is migrate for readers: they change nothing, so a database
// that is not yet at this program's version is refused.
func (s *Store) checkSchema(ctx context.Context) error {
	ver, id, tables, err := s.version(ctx)
	if err != nil {
		return err
	}
	if err := checkIdentity(ver, id, tables); err != nil {
		return err
	}
	if ver < schemaVersion() {
		return fmt.Errorf("it has schema version %d, which a recorder upgrades to %d: %w", ver, schemaVersion(), ErrNoHistory)
	}
	return nil
}

func (s *Store) version(ctx context.Context) (ver, id, tables int, err error) {
	if err = s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&ver); err != nil {
		return
	}
	if err = s.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return
	}
	err = s.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables)
	return
}

func checkIdentity(ver, id, tables int) error {
	switch {
	case id == 0 && ver == 0 && tables == 0:
		return nil // empty: a new database
	case id != appID:
		return fmt.Errorf("it is another program's SQLite database, not Netscanner history: %w", ErrBadPath)
	case ver > schemaVersion():
		return fmt.Errorf("%w: schema version %d, this program knows up to %d; update Netscanner", ErrTooNew, ver, schemaVersion())
	}
	return nil
}
