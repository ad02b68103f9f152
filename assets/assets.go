// Package assets holds Netscanner's own pictures: the app icon and one
// small icon per kind of device. They are embedded, so the binary needs no
// files beside it.
package assets

//go:generate go run ./gen -o icon.png

import (
	"embed"
	"fmt"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

//go:embed icons/*.svg
var icons embed.FS

// Icon returns the app icon: a 512×512 PNG drawn by ./gen.
func Icon() fyne.Resource { return fyne.NewStaticResource("icon.png", iconPNG) }

// DeviceIcon returns the single-colour SVG icon called name (phone,
// computer, printer, router, tv or unknown). Wrap it in
// theme.NewThemedResource to have it follow the theme's foreground colour.
func DeviceIcon(name string) (fyne.Resource, error) {
	b, err := icons.ReadFile("icons/" + name + ".svg")
	if err != nil {
		return nil, fmt.Errorf("assets: no device icon %q: %w", name, err)
	}
	return fyne.NewStaticResource(name+".svg", b), nil
}
