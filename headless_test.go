package main

import (
	"bytes"
	"debug/elf"
	"os/exec"
	"strings"
	"testing"
)

// buildHeadless builds netscanner-cli, the headless binary, as the README
// and `make cli` do: no cgo, no Fyne.
func buildHeadless(t *testing.T) string {
	return buildInto(t, "netscanner-cli", []string{"CGO_ENABLED=0"}, "-tags", "nogui")
}

// TestHeadlessBuild checks the promises of the headless build: no Fyne
// among its packages, a static executable (no interpreter, no shared
// library), every subcommand but the app.
func TestHeadlessBuild(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "nogui", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "fyne.io/") || pkg == "netscanner/app" {
			t.Errorf("the headless build links %s", pkg)
		}
	}

	bin := buildHeadless(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("netscanner-cli asks for a dynamic loader")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("netscanner-cli needs shared libraries %v (%v)", libs, err)
	}
	if ldd, err := exec.LookPath("ldd"); err == nil {
		// ldd exits 1 for a static binary; what it says is the point.
		out, _ := exec.Command(ldd, bin).CombinedOutput()
		if !strings.Contains(string(out), "not a dynamic executable") {
			t.Errorf("ldd netscanner-cli: %s", out)
		}
	}

	var stdout, stderr bytes.Buffer
	help := exec.Command(bin, "help")
	help.Stdout = &stdout
	if err := help.Run(); err != nil {
		t.Fatalf("netscanner-cli help: %v", err)
	}
	for _, cmd := range []string{"netscanner scan", "netscanner ping", "netscanner doctor"} {
		if !strings.Contains(stdout.String(), cmd) {
			t.Errorf("help does not list %q:\n%s", cmd, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "open the app") {
		t.Errorf("the headless help offers the app:\n%s", stdout.String())
	}
	bare := exec.Command(bin)
	bare.Stderr = &stderr
	if err := bare.Run(); err == nil || !strings.Contains(stderr.String(), "Usage:") {
		t.Errorf("netscanner-cli without a command: %v, stderr %q; want the usage and exit 2", err, stderr.String())
	}
}
