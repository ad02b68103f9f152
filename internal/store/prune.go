package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Pruning limits. Each Prune call stops after pruneBudget, and each of
// its transactions deletes at most pruneBatch scans' observations, so a
// store that was left unpruned for months (a retention shortened, a clock
// that jumped) catches up over several scans without ever holding the
// write lock long.
const (
	pruneBudget = 200 * time.Millisecond
	pruneBatch  = 288 // a day of 5-minute scans
)

// pruneObservationsQuery deletes the observations of scans ?1..?2 that
// started before ?3 (TestQueryPlans checks that it stays on the primary
// key).
const pruneObservationsQuery = `
DELETE FROM observations WHERE device_id IN (SELECT id FROM devices) AND scan_id BETWEEN ?1 AND ?2
	AND scan_id NOT IN (SELECT id FROM scans WHERE id BETWEEN ?1 AND ?2 AND started >= ?3)`

// Prune deletes the history older than the retention: the scans, their
// observations, and the identities no remaining observation needs.
// Devices are kept (a device last seen a year ago is still known, with
// its label). It returns the number of scans deleted; it stops early,
// leaving the rest for the next call, when its time budget is spent.
func (s *Store) Prune(ctx context.Context) (int, error) {
	if err := s.need(ModeRecord, "pruning history"); err != nil {
		return 0, err
	}
	cutoff := ms(s.now().Add(-s.retention))
	deadline := time.Now().Add(pruneBudget)
	total := 0
	for time.Now().Before(deadline) {
		n, err := s.pruneBatch(ctx, cutoff)
		total += n
		if err != nil {
			return total, fmt.Errorf("pruning history: %w", err)
		}
		if n < pruneBatch {
			return total, nil
		}
	}
	return total, nil
}

// pruneBatch deletes up to pruneBatch of the oldest scans that started
// before cutoff, in one transaction.
func (s *Store) pruneBatch(ctx context.Context, cutoff int64) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var lo, hi sql.NullInt64
	var n int
	err = tx.QueryRowContext(ctx, `
SELECT min(id), max(id), count(*) FROM (
	SELECT id FROM scans WHERE started < ? ORDER BY started LIMIT ?
)`, cutoff, pruneBatch).Scan(&lo, &hi, &n)
	if err != nil || n == 0 {
		return 0, err
	}
	// Observations are keyed by device first: a range of scans per
	// device keeps the delete on the primary key. Scans inside the range
	// that are not old (a clock that went backwards) are spared.
	if _, err := tx.ExecContext(ctx, pruneObservationsQuery, lo.Int64, hi.Int64, cutoff); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM scans WHERE id BETWEEN ? AND ? AND started < ?`, lo.Int64, hi.Int64, cutoff); err != nil {
		return 0, err
	}
	// An identity whose last use is pruned, and that is not its device's
	// current one, is needed by nothing.
	if _, err := tx.ExecContext(ctx, `
DELETE FROM identities WHERE last_scan <= ?
	AND id NOT IN (SELECT identity_id FROM devices WHERE identity_id IS NOT NULL)`, hi.Int64); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}
