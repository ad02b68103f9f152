package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// progressLine is a slim progress bar: a track and a fill, no text. The
// words go in the status line under it, where they have room.
type progressLine struct {
	widget.BaseWidget
	value float64 // 0 to 1
}

func newProgressLine() *progressLine {
	p := &progressLine{}
	p.ExtendBaseWidget(p)
	return p
}

// SetValue moves the bar; values are clamped to 0..1.
func (p *progressLine) SetValue(v float64) {
	v = min(max(v, 0), 1)
	if v == p.value {
		return
	}
	p.value = v
	p.Refresh()
}

// Value returns the bar's position, 0 to 1.
func (p *progressLine) Value() float64 { return p.value }

// CreateRenderer draws the track and the fill.
func (p *progressLine) CreateRenderer() fyne.WidgetRenderer {
	r := &progressRenderer{p: p, track: canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)),
		fill: canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))}
	return r
}

type progressRenderer struct {
	p           *progressLine
	track, fill *canvas.Rectangle
}

func (r *progressRenderer) Layout(size fyne.Size) {
	h := float32(6)
	y := (size.Height - h) / 2
	r.track.Move(fyne.NewPos(0, y))
	r.track.Resize(fyne.NewSize(size.Width, h))
	r.fill.Move(fyne.NewPos(0, y))
	r.fill.Resize(fyne.NewSize(size.Width*float32(r.p.value), h))
	r.track.CornerRadius, r.fill.CornerRadius = h/2, h/2
}

func (r *progressRenderer) MinSize() fyne.Size {
	return fyne.NewSize(40, 6+2*theme.Padding())
}

func (r *progressRenderer) Refresh() {
	r.track.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.fill.FillColor = theme.Color(theme.ColorNamePrimary)
	r.Layout(r.p.Size())
	r.track.Refresh()
	r.fill.Refresh()
}

func (r *progressRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.track, r.fill}
}

func (r *progressRenderer) Destroy() {}
