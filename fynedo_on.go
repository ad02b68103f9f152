//go:build !nogui && migrated_fynedo

package main

// fyneDoBuild is true when the app was built with -tags migrated_fynedo,
// the threading model app/ is written for (fyne.Do).
const fyneDoBuild = true
