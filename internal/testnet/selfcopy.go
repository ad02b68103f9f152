package testnet

import (
	"os"
	"path/filepath"
	"testing"
)

// WorldExecutableCopy copies the running test binary to a fresh
// directory that every user may enter, and returns the copy's path, so
// that a test can run itself as Nobody or Confined (Command) with
// -test.run naming a helper test. The copy goes with t.Cleanup.
func WorldExecutableCopy(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "testnet-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(self))
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
