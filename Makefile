# Netscanner. `make run` opens the app, `make test` runs every check; both
# install what a fresh Debian machine lacks first.

GO      ?= go
TAGS    := migrated_fynedo
GOBIN   := $(shell $(GO) env GOPATH)/bin
BIN     := bin/netscanner
FUZZTIME ?= 10s

export PATH := $(GOBIN):$(PATH)

.PHONY: all deps build run test lint bench bench-sweep fuzz clean

all: build

## deps: install missing Debian packages (as root) and Go tools
deps:
	@./scripts/deps.sh

## build: compile the app and CLI into bin/netscanner
build:
	$(GO) build -tags $(TAGS) -o $(BIN) .

## run: open the app
run: deps build
	./$(BIN)

## test: vet and the whole test suite (namespace tests need root; CI=true runs them all)
test: deps
	$(GO) vet -tags $(TAGS) ./...
	$(GO) test -tags $(TAGS) -count=1 ./...

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	staticcheck -tags $(TAGS) ./...

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

## bench: Go benchmarks (round trips, engine, list model)
bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...

## bench-sweep: netscanner against fping, nmap and zmap in test namespaces (root)
bench-sweep: build
	NETSCANNER=$(CURDIR)/$(BIN) ./bench/sweep.sh

clean:
	rm -rf bin dist
