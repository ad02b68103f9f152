//go:build !nogui && !migrated_fynedo

package main

// fyneDoBuild is false in a build without -tags migrated_fynedo: a plain
// `go build .` drops the tag, and the app would then run on Fyne's other
// threading model, which it is not written for. Its subcommands still
// work; the window refuses to open and says how to build it.
const fyneDoBuild = false
