package devices

import "context"

// Reload reads the devices again from the history database, after another
// writer on it (the app's watcher, which records through the database
// itself) added a scan. Without a history database it does nothing.
func (s *Store) Reload(ctx context.Context) error {
	if s.hist == nil {
		return nil
	}
	return s.hist.reload(ctx, s)
}

// HistoryID returns the history database's id of the device with key (any
// key Device finds), for its timeline; false without a history database
// or for a device it does not hold.
func (s *Store) HistoryID(key string) (int64, bool) {
	if s.hist == nil {
		return 0, false
	}
	id, ok := s.hist.ids[s.hist.resolve(key)]
	return id, ok
}
