package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(Icon()))
	if err != nil {
		t.Fatalf("icon.png does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Errorf("icon is %v, want 512x512", b)
	}
}

func TestDeviceIcons(t *testing.T) {
	for _, name := range []string{"phone", "computer", "printer", "router", "tv", "unknown"} {
		r, err := DeviceIcon(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(r, []byte("<svg")) {
			t.Errorf("%s: not an SVG", name)
		}
	}
	if _, err := DeviceIcon("../icon"); err == nil {
		t.Error("DeviceIcon accepted a path outside icons/")
	}
}
