// Command gen builds package oui's embedded maker table from the IEEE lists
// that Debian's ieee-data package installs. Run it with `go generate` in
// scanner/oui; it writes registry.bin.gz and source_gen.go there.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"netscanner/scanner/oui/internal/ieee"
)

func main() {
	dir := flag.String("dir", ieee.DefaultDir, "directory holding oui.csv, mam.csv, oui36.csv and iab.csv")
	out := flag.String("out", ".", "directory to write "+ieee.TableFile+" and "+ieee.SourceFile+" into")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	o, err := ieee.Generate(dir)
	if err != nil {
		return fmt.Errorf("%w (install the ieee-data package, or pass -dir)", err)
	}
	if err := os.WriteFile(filepath.Join(out, ieee.TableFile), o.Table, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, ieee.SourceFile), o.Source, 0o644); err != nil {
		return err
	}
	fmt.Printf("gen: %s: %d bytes (%d raw)\n", ieee.TableFile, len(o.Table), len(o.Raw))
	return nil
}
