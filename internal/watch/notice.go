package watch

import (
	"fmt"
	"strings"
	"time"
)

// Notice is the text of one desktop notification: the app sends one for
// the devices that joined and one for those that left in a scan, however
// many there were, so a first scan of a busy network is one
// notification, not fifty.
type Notice struct {
	Kind  Kind // Joined or Left
	Title string
	Body  string
}

// noticeNames is how many devices a notification names before "and N
// more".
const noticeNames = 4

// Notices turns one scan's events into notifications: joined first, then
// left; none for Back and Changed, which are news in the list, not
// alerts. Times are written in loc.
func Notices(events []Event, loc *time.Location) []Notice {
	var joined, left []Event
	for _, e := range events {
		switch e.Kind {
		case Joined:
			joined = append(joined, e)
		case Left:
			left = append(left, e)
		}
	}
	var out []Notice
	if n := len(joined); n == 1 {
		e := joined[0]
		out = append(out, Notice{Kind: Joined, Title: "New device: " + noticeName(e.Device),
			Body: joinDetails(e.Device) + fmt.Sprintf("joined the network at %s.", e.Time.In(loc).Format("15:04"))})
	} else if n > 1 {
		out = append(out, Notice{Kind: Joined, Title: fmt.Sprintf("%d new devices on the network", n),
			Body: nameList(joined) + "."})
	}
	if n := len(left); n == 1 {
		e := left[0]
		body := "Not seen in the last " + missedScans(e.Device.Missed)
		if !e.Device.LastSeen.IsZero() {
			body += "; last seen at " + e.Device.LastSeen.In(loc).Format("15:04")
		}
		out = append(out, Notice{Kind: Left, Title: noticeName(e.Device) + " left", Body: body + "."})
	} else if n > 1 {
		out = append(out, Notice{Kind: Left, Title: fmt.Sprintf("%d devices left the network", n),
			Body: nameList(left) + "."})
	}
	return out
}

// noticeName is what a notification calls a device: its name, else its
// address, else its MAC.
func noticeName(d Device) string {
	if n := d.Name(); n != "" {
		return printable(n)
	}
	if d.Host.Addr.IsValid() {
		return d.Host.Addr.String()
	}
	return d.MACOrIP()
}

// joinDetails says where and what a new device is: "198.18.0.9 · Brother
// Industries · ".
func joinDetails(d Device) string {
	var parts []string
	if d.Name() != "" && d.Host.Addr.IsValid() {
		parts = append(parts, d.Host.Addr.String())
	}
	if d.Host.Vendor != "" {
		parts = append(parts, printable(d.Host.Vendor))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " · ") + " · "
}

func nameList(evs []Event) string {
	names := make([]string, 0, noticeNames+1)
	for i, e := range evs {
		if i == noticeNames {
			names = append(names, fmt.Sprintf("and %d more", len(evs)-noticeNames))
			break
		}
		names = append(names, noticeName(e.Device))
	}
	return strings.Join(names, ", ")
}

func missedScans(n int) string {
	if n == 1 {
		return "scan"
	}
	return fmt.Sprintf("%d scans", n)
}
