# deskbot: the ChatOps bot of a web-hosting support desk.
# Every target works on a fresh clone; nothing here needs network access
# beyond the Go module proxy.

GO       ?= go
PLUGINS  := $(notdir $(patsubst %/main.go,%,$(wildcard plugins/*/main.go)))
BENCHTIME ?= 2s
FUZZTIME  ?= 30s
# grpcnotrace: gRPC without golang.org/x/net/trace (and the templates it
# links), which the bot never serves: 0.7-1.5 MB less resident per process.
BUILDTAGS ?= grpcnotrace
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: all build plugin run console test test-stress race bench curves fuzz fuzz-smoke generate check-generated lint clean image helm-lint

all: build

## build: the bot in bin/bot, each plugin in bin/plugins/NAME; static
## binaries (no cgo): they run anywhere, and an idle process maps no libc
build:
	CGO_ENABLED=0 $(GO) build -tags $(BUILDTAGS) -ldflags "-X main.Version=$(VERSION)" -o bin/bot ./cmd/bot
	@mkdir -p bin/plugins
	@for p in $(PLUGINS); do echo "CGO_ENABLED=0 $(GO) build -tags $(BUILDTAGS) -o bin/plugins/$$p ./plugins/$$p"; CGO_ENABLED=0 $(GO) build -tags $(BUILDTAGS) -o bin/plugins/$$p ./plugins/$$p || exit 1; done
	@# the plugins' pins, for plugins.sums (examples/bot.yaml reads them)
	cd bin/plugins && ../bot plugin sum $(PLUGINS) > SHA256SUMS

## plugin: one plugin, NAME=acme: bin/plugins/NAME in seconds, and its
## line in bin/plugins/SHA256SUMS (the others kept); the loop while
## writing a provider is edit, make plugin NAME=acme, bin/bot exec
# NAME follows bot plugin new's rule (lower-case letters, digits and
# dashes, starting with a letter), checked by make itself before any
# shell sees it: a name is a word left empty once its allowed characters
# are taken out.
# Taken as typed: make would otherwise expand NAME='$(shell ...)' itself.
ifdef NAME
override NAME := $(value NAME)
endif
plugin_chars := a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 -
plugin_drop = $(if $(2),$(call plugin_drop,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,$(words $(2)),$(2))),$(1))
plugin_name_ok = $(and $(filter 1,$(words $(NAME))),$(if $(call plugin_drop,$(NAME),$(plugin_chars)),,ok),$(if $(filter 0% 1% 2% 3% 4% 5% 6% 7% 8% 9% -%,$(NAME)),,ok))
plugin:
	$(if $(value NAME),,$(error usage: make plugin NAME=acme))
	$(if $(plugin_name_ok),,$(error NAME must be lower-case letters, digits and dashes, starting with a letter, as bot plugin new takes it))
	@test -f 'plugins/$(NAME)/main.go' || { echo 'plugins/$(NAME)/main.go does not exist (bot plugin new $(NAME) writes a plugin)' >&2; exit 2; }
	@mkdir -p bin/plugins
	CGO_ENABLED=0 $(GO) build -tags $(BUILDTAGS) -o 'bin/plugins/$(NAME)' './plugins/$(NAME)'
	@# the pin is set by the bot, which reads the file as it does: one
	@# parser for every form of a line, comments and order kept
	CGO_ENABLED=0 $(GO) build -tags $(BUILDTAGS) -ldflags "-X main.Version=$(VERSION)" -o bin/bot ./cmd/bot
	bin/bot plugin sum --sums bin/plugins/SHA256SUMS '$(NAME)' >/dev/null
	@echo "bin/plugins/$(NAME) built; its pin is in bin/plugins/SHA256SUMS"

## run: build everything and open the playground (a local Slack in the browser)
run: build
	./bin/bot serve --playground

## console: build everything and start the terminal console
console: build
	./bin/bot console --as alice

## test: every test, with the race detector
test:
	$(GO) test -race -count=1 -timeout 30m ./...
	cd tools && $(GO) test -count=1 ./...

## test-stress: every test, with the race detector, while a CPU hog keeps
## every core busy (STRESS_RUNS=3 for three runs in a row)
test-stress:
	@GO=$(GO) ./scripts/test-stress.sh

## bench: the benchmarks, in a form benchstat reads
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count 1 ./...

## curves: the cost curves of docs/performance.md on SQLite and
## PostgreSQL (about an hour; CURVES_LARGE=0 for the small sizes only)
curves:
	@GO=$(GO) ./scripts/cost-curves.sh

## fuzz: each fuzz target for FUZZTIME
fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

## fuzz-smoke: each fuzz target briefly (CI)
fuzz-smoke:
	@./scripts/fuzz.sh 20000x

SEEDS ?= ../shared/seeds
WHM_SEED := $(SEEDS)/003_3961e65386ab0594.txt
IONOS_SEED := $(SEEDS)/002_b72d99a83a7c09c0.txt

## generate: protobuf code, and (where the provider references are) the catalogs built from them
generate:
	cd proto && $(GO) tool buf generate
	@if [ -f "$(WHM_SEED)" ]; then echo "$(GO) run ./plugins/whm/gen"; $(GO) run ./plugins/whm/gen -seed "$(WHM_SEED)" -out plugins/whm/catalog/catalog.json; \
	else echo "provider references not found in $(SEEDS): catalogs left as committed"; fi
	@if [ -f "$(IONOS_SEED)" ]; then echo "$(GO) run ./plugins/ionos/gen"; $(GO) run ./plugins/ionos/gen -seed "$(IONOS_SEED)" -out plugins/ionos/catalog/catalog.json; fi

GENERATED := proto plugins/whm/catalog/catalog.json plugins/whm/catalog/samples.json plugins/ionos/catalog/catalog.json plugins/ionos/catalog/examples.json

## check-generated: fail if generated code differs from what is committed
check-generated: generate
	@git diff --exit-code -- $(GENERATED) || (echo "generated code is stale: run make generate and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain -- $(GENERATED))" || (git status --porcelain -- $(GENERATED); echo "make generate created files that are not committed" >&2; exit 1)

## lint: formatting, vet and the protobuf style guide
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'))" || (gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'); echo "gofmt needed" >&2; exit 1)
	$(GO) vet ./...
	cd tools && $(GO) vet ./...
	cd proto && $(GO) tool buf lint

## image: the container image IMAGE:VERSION and IMAGE:latest from
## Containerfile, with podman or docker (ENGINE=...); where the Go base
## image cannot be pulled, it builds on a local one, offline (podman, root
## and debootstrap: scripts/build-base-image.sh)
IMAGE ?= deskbot
image:
	ENGINE=$(ENGINE) IMAGE=$(IMAGE) VERSION=$(VERSION) GO=$(GO) ./scripts/build-image.sh

## helm-lint: helm lint of the chart, with its defaults and with every option set
helm-lint:
	cd tools && $(GO) tool helm lint ../deploy/helm/deskbot
	cd tools && $(GO) tool helm lint ../deploy/helm/deskbot -f ../deploy/helm/deskbot/ci/full-values.yaml

clean:
	rm -rf bin
