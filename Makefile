# Netscanner. `make run` opens the app, `make test` runs every check; both
# install what a fresh Debian machine lacks first.

GO      ?= go
TAGS    := migrated_fynedo
GOBIN   := $(shell $(GO) env GOPATH)/bin
BIN     := bin/netscanner
CLI     := bin/netscanner-cli
FUZZTIME ?= 10s

export PATH := $(GOBIN):$(PATH)

# Recipes that pipe (reliability) must fail when the test fails.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: all deps deps-package build cli run test race reliability lint bench bench-sweep fuzz screenshots package confined-test clean

all: build

## deps: install missing Debian packages (as root) and Go tools
deps:
	@./scripts/deps.sh

## build: compile the app, with every subcommand, into bin/netscanner
build:
	$(GO) build -tags $(TAGS) -o $(BIN) .

## cli: the static headless binary (no cgo, no Fyne, no X11) into bin/netscanner-cli
cli:
	CGO_ENABLED=0 $(GO) build -tags nogui -o $(CLI) .

## run: open the app
run: deps build
	./$(BIN)

## test: vet and the whole test suite (namespace tests need root; CI=true runs them all)
test: deps
	$(GO) vet -tags $(TAGS) ./...
	$(GO) test -tags $(TAGS) -count=1 ./...

## race: the whole suite under the race detector
race: deps
	$(GO) test -tags $(TAGS) -race -count=1 ./...

## reliability: hostile replies, concurrent scanners, limits; prints figures (root)
reliability: deps
	$(GO) test -tags $(TAGS) -count=1 -run Reliability -v ./... | grep -E '^(reliability:|--- |ok|FAIL|panic)'

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	$(GO) vet -tags nogui .
	staticcheck -tags $(TAGS) ./...
	staticcheck -tags nogui .

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

## bench: Go benchmarks (round trips, engine, list model)
bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...

## bench-sweep: netscanner against fping, nmap and zmap in test namespaces (root)
bench-sweep: build
	NETSCANNER=$(CURDIR)/$(BIN) ./bench/sweep.sh

## screenshots: the real app under Xvfb against a test network, into docs/screenshots (root)
screenshots: deps
	./scripts/screenshots.sh

## deps-package: what packaging needs on top of deps (click, fyne CLI, arm64 cross tools)
deps-package: deps
	@./scripts/deps-package.sh

## package: desktop tarball and Ubuntu Touch clicks (amd64, arm64) into dist/ (root)
package: deps-package
	./packaging/desktop.sh
	SYSROOT=$$(./packaging/sysroot.sh amd64) ./packaging/click.sh amd64
	SYSROOT=$$(./packaging/sysroot.sh arm64) ./packaging/click.sh arm64

## confined-test: run the packaged app as a confined phone app runs (root)
confined-test: package
	./scripts/confined-test.sh

clean:
	rm -rf bin dist
