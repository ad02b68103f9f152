package settings

import "testing"

// The Identify switch: on by default and in files older than it, kept
// through the store file, and off means Enrich.Identify off.
func TestIdentifySwitch(t *testing.T) {
	s := DefaultSettings()
	if !s.Identify || !s.Config().Enrich.Identify {
		t.Fatal("identification is off by default")
	}
	if !FromFile(File{}).Identify {
		t.Error("a file without the field turns identification off")
	}
	s.Identify = false
	if back := FromFile(s.ToFile()); back.Identify {
		t.Error("off is not kept")
	}
	if e := s.Config().Enrich; e.Identify || !e.Names || !e.LinkLocal {
		t.Errorf("off: %+v", e)
	}
}
