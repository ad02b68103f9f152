package ieee

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const header = "Registry,Assignment,Organization Name,Organization Address\n"

// writeLists writes the four lists into a temporary directory; files not
// given get only their header.
func writeLists(t *testing.T, lists map[string]string) string {
	dir := t.TempDir()
	for _, f := range Files() {
		if err := os.WriteFile(filepath.Join(dir, f.Name), []byte(header+lists[f.Name]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRead(t *testing.T) {
	dir := writeLists(t, map[string]string{
		"oui.csv": "MA-L,B827EB,Raspberry Pi Foundation,Cambridge\n" +
			"MA-L,080030,NETWORK RESEARCH CORPORATION,OXNARD\n" +
			"MA-L,080030,CERN,GENEVE\n" +
			"MA-L,080030,CERN,GENEVE again\n" +
			"MA-L,44B295,\"Sichuan\u00a0AI-Link\u00a0Technology\u00a0Co.,\u00a0Ltd.\t\",\"Anzhou,\nSichuan\"\n",
		"mam.csv":   "MA-M,208593B,  IOG  Products LLC ,CHATSWORTH\n",
		"oui36.csv": "MA-S,70B3D5F2F,TELEPLATFORMS,Moscow\n",
		"iab.csv":   "IAB,0050C2000,T.L.S. Corp.,Cleveland\n",
	})
	d, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Assignment{
		{0x080030, 24, "CERN / NETWORK RESEARCH CORPORATION"},
		{0x44B295, 24, "Sichuan AI-Link Technology Co., Ltd."},
		{0xB827EB, 24, "Raspberry Pi Foundation"},
		{0x208593B, 28, "IOG Products LLC"},
		{0x0050C2000, 36, "T.L.S. Corp."},
		{0x70B3D5F2F, 36, "TELEPLATFORMS"},
	}
	if len(d.Assignments) != len(want) {
		t.Fatalf("got %v, want %v", d.Assignments, want)
	}
	for i := range want {
		if d.Assignments[i] != want[i] {
			t.Errorf("assignment %d = %+v, want %+v", i, d.Assignments[i], want[i])
		}
	}
	if d.Files[0].Rows != 5 || d.Files[1].Rows != 1 {
		t.Errorf("rows: %+v", d.Files)
	}
	raw, err := Encode(d.Assignments)
	if err != nil || !strings.HasPrefix(string(raw), Magic) {
		t.Errorf("Encode: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	for what, lists := range map[string]map[string]string{
		"short assignment": {"oui.csv": "MA-L,B827E,Raspberry Pi Foundation,x\n"},
		"not hex":          {"mam.csv": "MA-M,208593G,IOG,x\n"},
		"wrong registry":   {"oui36.csv": "MA-M,70B3D5F2F,TELEPLATFORMS,x\n"},
		"no name":          {"iab.csv": "IAB,0050C2000, \t ,x\n"},
		"three columns":    {"oui.csv": "MA-L,B827EB,Raspberry Pi Foundation\n"},
		"bad quote":        {"oui.csv": "MA-L,B827EB,\"Raspberry,x\n"},
	} {
		if _, err := Read(writeLists(t, lists)); err == nil {
			t.Errorf("%s: no error", what)
		}
	}
	if _, err := Read(t.TempDir()); err == nil {
		t.Error("empty directory: no error")
	}
	dir := writeLists(t, nil)
	os.WriteFile(filepath.Join(dir, "oui.csv"), []byte("Registry,Assignment\n"), 0o644)
	if _, err := Read(dir); err == nil {
		t.Error("bad header: no error")
	}
}

func TestEncodeRejects(t *testing.T) {
	for what, as := range map[string][]Assignment{
		"too wide":   {{Prefix: 1 << 24, Bits: 24, Name: "A"}},
		"unsorted":   {{Prefix: 2, Bits: 24, Name: "A"}, {Prefix: 1, Bits: 24, Name: "A"}},
		"duplicate":  {{Prefix: 1, Bits: 24, Name: "A"}, {Prefix: 1, Bits: 24, Name: "B"}},
		"empty name": {{Prefix: 1, Bits: 24, Name: ""}},
		"long name":  {{Prefix: 1, Bits: 24, Name: strings.Repeat("x", MaxName+1)}},
	} {
		if _, err := Encode(as); err == nil {
			t.Errorf("%s: no error", what)
		}
	}
}
