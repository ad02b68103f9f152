// Command gen draws Netscanner's app icon, a radar sweeping over a few
// devices, into assets/icon.png.
//
// It is plain Go on purpose: no image editor, no fonts, and the same bytes
// on every machine. Each pixel averages a grid of subsamples of an analytic
// scene, which gives clean antialiased edges at any size. Run it from the
// assets folder with `go generate` (see assets.go).
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

// rgba is a colour with straight (not premultiplied) alpha, channels 0..1.
type rgba struct{ r, g, b, a float64 }

// over composites c on top of dst, both straight alpha.
func over(dst, c rgba) rgba {
	a := c.a + dst.a*(1-c.a)
	if a == 0 {
		return rgba{}
	}
	mix := func(x, y float64) float64 { return (x*c.a + y*dst.a*(1-c.a)) / a }
	return rgba{mix(c.r, dst.r), mix(c.g, dst.g), mix(c.b, dst.b), a}
}

func hex(v uint32, a float64) rgba {
	return rgba{float64(v>>16&0xff) / 255, float64(v>>8&0xff) / 255, float64(v&0xff) / 255, a}
}

func lerp(a, b rgba, t float64) rgba {
	return rgba{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t, a.a + (b.a-a.a)*t}
}

// Scene geometry, in units of a 512 px canvas.
const (
	size   = 512.0
	inset  = 20.0  // margin around the rounded square
	corner = 112.0 // corner radius of the rounded square
	cx, cy = 256.0, 256.0
	ring   = 18.0 // ring stroke width
)

var rings = []float64{66, 132}

// outer is the radius of the radar's rim.
const outer = 198.0

// inRoundedSquare reports whether (x, y) lies inside the background tile.
func inRoundedSquare(x, y float64) bool {
	lo, hi := inset+corner, size-inset-corner
	dx := math.Max(math.Max(lo-x, 0), math.Max(x-hi, 0))
	dy := math.Max(math.Max(lo-y, 0), math.Max(y-hi, 0))
	if x < inset || x > size-inset || y < inset || y > size-inset {
		return false
	}
	return dx*dx+dy*dy <= corner*corner
}

// device is a dot on the radar: polar position and radius.
type device struct {
	r, deg, size float64
}

var devices = []device{
	{132, -62, 28},
	{66, 150, 22},
	{165, 200, 24},
}

// scene returns the colour at (x, y).
func scene(x, y float64) rgba {
	if !inRoundedSquare(x, y) {
		return rgba{}
	}
	// Background: deep blue at the top left to teal at the bottom right.
	t := (x + y) / (2 * size)
	c := lerp(hex(0x1546B8, 1), hex(0x0C8A8A, 1), t)

	dx, dy := x-cx, y-cy
	d := math.Hypot(dx, dy)
	ang := math.Atan2(dy, dx) * 180 / math.Pi // -180..180, 0 = east, clockwise on screen

	// The sweep: a wedge that fades behind its leading edge.
	const lead, span, reach = -30.0, 80.0, outer
	behind := math.Mod(lead-ang+720, 360) // degrees behind the leading edge
	if d < reach && behind < span {
		c = over(c, hex(0x9CFFD0, 0.55*(1-behind/span)))
	}

	for _, r := range rings {
		if math.Abs(d-r) < ring/2 {
			c = over(c, hex(0xFFFFFF, 0.55))
		}
	}
	// Outer ring, brighter: the edge of the radar.
	if math.Abs(d-outer) < ring/2 {
		c = over(c, hex(0xFFFFFF, 0.85))
	}

	// Leading edge of the sweep.
	rad := lead * math.Pi / 180
	ux, uy := math.Cos(rad), math.Sin(rad)
	along := dx*ux + dy*uy
	across := math.Abs(-dx*uy + dy*ux)
	if along > 0 && along < reach && across < 7 {
		c = over(c, hex(0xFFFFFF, 0.95))
	}

	for _, dv := range devices {
		a := dv.deg * math.Pi / 180
		px, py := cx+dv.r*math.Cos(a), cy+dv.r*math.Sin(a)
		dd := math.Hypot(x-px, y-py)
		if dd < dv.size+7 {
			c = over(c, hex(0x0B2E6B, 0.9)) // dark halo keeps the dot apart from rings
		}
		if dd < dv.size {
			c = over(c, hex(0x6CF5A8, 1))
		}
	}
	if d < 26 {
		c = over(c, hex(0xFFFFFF, 1))
	}
	return c
}

// render draws the scene at px×px pixels, averaging ss×ss subsamples each.
func render(px, ss int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	scale := size / float64(px)
	for j := 0; j < px; j++ {
		for i := 0; i < px; i++ {
			var r, g, b, a float64 // premultiplied sums
			for sj := 0; sj < ss; sj++ {
				for si := 0; si < ss; si++ {
					x := (float64(i) + (float64(si)+0.5)/float64(ss)) * scale
					y := (float64(j) + (float64(sj)+0.5)/float64(ss)) * scale
					c := scene(x, y)
					r, g, b, a = r+c.r*c.a, g+c.g*c.a, b+c.b*c.a, a+c.a
				}
			}
			n := float64(ss * ss)
			if a == 0 {
				continue
			}
			to8 := func(v float64) uint8 { return uint8(math.Round(math.Min(v, 1) * 255)) }
			img.SetNRGBA(i, j, color.NRGBA{to8(r / a), to8(g / a), to8(b / a), to8(a / n)})
		}
	}
	return img
}

func main() {
	out := flag.String("o", "icon.png", "output file")
	px := flag.Int("size", 512, "width and height in pixels")
	flag.Parse()
	if *px < 16 || *px > 4096 {
		fmt.Fprintln(os.Stderr, "gen: -size must be between 16 and 4096")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, render(*px, 4)); err != nil {
		f.Close()
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
