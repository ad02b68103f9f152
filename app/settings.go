package app

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"netscanner/internal/settings"
	"netscanner/probe"
	"netscanner/scanner/targets"
)

// settingsForm holds the settings dialog's fields.
type settingsForm struct {
	timeout   *widget.Entry
	retries   *widget.Select
	rate      *widget.Entry
	ports     *widget.Entry
	method    *widget.Select
	lookups   *widget.Check
	linkLocal *widget.Check
	identify  *widget.Check // the command line's --no-identify, reversed
	watch     *widget.Entry // the Watch switch's interval
}

// methodChoices are the method selector's entries, Auto first.
func methodChoices() []string {
	out := []string{string(probe.Auto)}
	for _, m := range probe.Methods() {
		out = append(out, string(m))
	}
	return out
}

func newSettingsForm(s settings.Settings) *settingsForm {
	f := &settingsForm{
		timeout: widget.NewEntry(),
		rate:    widget.NewEntry(),
		ports:   widget.NewEntry(),
		lookups: widget.NewCheck("Look up host names", nil),
		// The same switch as the command line's --no-link-local.
		linkLocal: widget.NewCheck("Find IPv6 link-local neighbours", nil),
		identify:  widget.NewCheck("Identify devices", nil),
	}
	f.timeout.SetText(strconv.FormatInt(s.Timeout.Milliseconds(), 10))
	f.timeout.Validator = func(t string) error {
		_, err := settings.ParseTimeoutMillis(t)
		return err
	}
	retries := make([]string, targets.MaxRetries+1)
	for i := range retries {
		retries[i] = strconv.Itoa(i)
	}
	f.retries = widget.NewSelect(retries, nil)
	f.retries.SetSelectedIndex(s.Retries)
	f.rate.SetText(strconv.FormatFloat(s.Rate, 'f', -1, 64))
	f.rate.Validator = func(t string) error {
		_, err := settings.ParseRate(t)
		return err
	}
	f.ports.SetText(targets.FormatPorts(s.Ports))
	f.ports.Validator = func(t string) error {
		_, err := targets.ParsePorts(t)
		return err
	}
	f.method = widget.NewSelect(methodChoices(), nil)
	f.method.SetSelected(string(s.Method))
	f.lookups.SetChecked(s.Lookups)
	f.linkLocal.SetChecked(s.LinkLocal)
	f.identify.SetChecked(s.Identify)
	f.watch = widget.NewEntry()
	f.watch.SetText(formatWatchInterval(s.WatchInterval))
	f.watch.Validator = func(t string) error {
		_, err := settings.ParseWatchInterval(t)
		return err
	}
	return f
}

func (f *settingsForm) items() []*widget.FormItem {
	return []*widget.FormItem{
		{Text: "Timeout (ms)", Widget: f.timeout, HintText: "How long to wait for a silent host."},
		{Text: "Retries", Widget: f.retries, HintText: "More requests for a host that did not answer."},
		{Text: "Rate", Widget: f.rate, HintText: "Requests per second."},
		{Text: "Ports", Widget: f.ports, HintText: "TCP ports to look for, such as 22, 80, 8000-8010, or none."},
		{Text: "Method", Widget: f.method, HintText: "auto picks the best that works here."},
		{Text: "", Widget: f.lookups},
		{Text: "", Widget: f.linkLocal, HintText: "Ping ff02::1 for devices with only an fe80:: address."},
		{Text: "", Widget: f.identify, HintText: "Ask devices what they are: DNS-SD, UPnP, web and SSH banners."},
		{Text: "Watch every", Widget: f.watch, HintText: "Minutes between scans while Watch is on (or 30s, 2h)."},
	}
}

// settings reads the form back, or says what is wrong.
func (f *settingsForm) settings() (settings.Settings, error) {
	var s settings.Settings
	var err error
	if s.Timeout, err = settings.ParseTimeoutMillis(f.timeout.Text); err != nil {
		return s, err
	}
	s.Retries = max(f.retries.SelectedIndex(), 0)
	if s.Rate, err = settings.ParseRate(f.rate.Text); err != nil {
		return s, err
	}
	if s.Ports, err = targets.ParsePorts(f.ports.Text); err != nil {
		return s, err
	}
	if s.Method, err = probe.ParseMethod(f.method.Selected); err != nil {
		return s, err
	}
	s.Lookups = f.lookups.Checked
	s.LinkLocal = f.linkLocal.Checked
	s.Identify = f.identify.Checked
	if s.WatchInterval, err = settings.ParseWatchInterval(f.watch.Text); err != nil {
		return s, err
	}
	return s, s.Check()
}

// showSettings opens the settings form; Save stores them for good.
func (u *UI) showSettings() {
	old := u.store.Settings()
	f := newSettingsForm(old)
	d := dialog.NewForm("Settings", "Save", "Cancel", f.items(), func(ok bool) {
		if !ok {
			return
		}
		s, err := f.settings()
		if err != nil {
			dialog.ShowError(err, u.win)
			return
		}
		u.store.SetSettings(s)
		if err := u.store.Save(); err != nil {
			u.setStatus(err.Error(), true)
		} else {
			u.setStatus("Settings saved.", false)
		}
		if s.Method != old.Method {
			u.refreshMethod(s.Method)
		}
		if s.WatchInterval != old.WatchInterval {
			u.restartWatch()
		}
	}, u.win)
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
}
