// Package assets holds Netscanner's own pictures: the app icon and one
// small icon per kind of device. They are embedded, so the binary needs no
// files beside it. It hands out bytes; the app makes Fyne resources of
// them, so that nothing but app/ imports Fyne.
package assets

//go:generate go run ./gen -o icon.png

import (
	"embed"
	"fmt"
)

//go:embed icon.png
var iconPNG []byte

//go:embed icons/*.svg
var icons embed.FS

// Icon returns the app icon, icon.png: a 512×512 PNG drawn by ./gen.
func Icon() []byte { return iconPNG }

// DeviceIcon returns the single-colour SVG icon called name, as the file
// name.svg: one per kind of device, named as package identify names the
// kinds (phone, tablet, computer, laptop, printer, router, access-point,
// tv, streaming-stick, speaker, camera, nas, game-console,
// smart-home-hub, iot, unknown). Each is drawn in a 24×24 box with filled
// paths (holes by the even-odd rule), so the app can tint it.
func DeviceIcon(name string) ([]byte, error) {
	b, err := icons.ReadFile("icons/" + name + ".svg")
	if err != nil {
		return nil, fmt.Errorf("assets: no device icon %q: %w", name, err)
	}
	return b, nil
}
