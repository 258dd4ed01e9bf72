# nakedhtmx: the two commands a fresh machine needs are `make demo` and `make test`.
# Everything else is a step they share. Tools come from the pinned npm devDependencies
# (node 24, deno, bun, tsc, playwright-core) and Go; nothing is downloaded elsewhere.

SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
GO ?= go
# -l (no inlining) for packages no request's hot path leans on: encoding/json,
# math/big, fmt and reflect (the core reads and writes its JSON by
# hand), the stores' catalog code, model, capture, dsid, config, hosts, mime,
# unicode, time, net/... (url), core/schema (runs when the schema changes),
# core/schemaedit (when the structure is edited), core/rules (row rules:
# parsed at load, bound once per read), core/password (its hash is argon2's
# loop), core/readsql (the SQL page), core/sqldb (quoting and value
# helpers: 8 KB, bench/core.ts within the noise) and
# core/cmd/...: together about 90 KB less gzipped core.wasm; bench/core.ts on
# Node, medians within the machine's noise. Measured and refused: strings
# (-30 KB, list pages +6 %), strconv (JSON numbers, +5 %), core/protocol and
# core/engine (per request). The JSON Schema validator and golang.org/x/text
# were built so too until core/validate replaced them in the core (-270 KB);
# regexp is not linked at all (core/textscan, about -115 KB), nor math/big's
# arithmetic (core/decimal, about -50 KB), nor Go's FIPS 140 module
# (crypto/sha256 and crypto/rand brought its DRBG, AES and GCM: core/digest
# and core/entropy, about -48 KB), nor runtime/metrics (-4 KB).
GOFLAGS_WASM := -buildmode=c-shared -trimpath -ldflags=-s -gcflags=encoding/json=-l -gcflags=math/big=-l -gcflags=fmt=-l -gcflags=reflect=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/store/...=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/model=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/capture=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/dsid=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/config=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/hosts=-l -gcflags=mime/...=-l -gcflags=unicode=-l -gcflags=time=-l -gcflags=net/...=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/schema=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/schemaedit=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/cmd/...=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/rules=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/password=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/readsql=-l -gcflags=github.com/nakedhtmx/nakedhtmx/core/sqldb=-l
GO_SOURCES := $(shell find core -name '*.go' -not -name '*_test.go') $(wildcard core/render/assets/*) go.mod go.sum
TS_SOURCES := $(shell find bindings/ts/src deno -name '*.ts' 2>/dev/null) tsconfig.json
HOST ?= deno
PORT ?= 8080
DEMO_DB ?= examples/demo.db

.PHONY: build demo test check-tracked check-size test-go test-fuzz test-ts test-http test-browser test-packages test-nats bench screenshots fmt vet clean

build: node_modules/.stamp dist/core.wasm dist/.tsstamp dist/browser/manifest.json

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	bash scripts/check-tools.sh
	@touch $@

dist/core.wasm: $(GO_SOURCES)
	@mkdir -p dist
	GOOS=wasip1 GOARCH=wasm $(GO) build $(GOFLAGS_WASM) -o $@ ./core/cmd/wasm

dist/.tsstamp: $(TS_SOURCES) node_modules/.stamp
	tsc -p tsconfig.json
	@touch $@

# The browser set (PROTOCOL.md, "Offline"): the offline service worker and
# what it runs, served by every host at BASE/offline/. The native Go host
# embeds it (go build -tags browserset), so it is copied where go:embed sees it.
dist/browser/manifest.json: dist/.tsstamp dist/core.wasm scripts/browser-set.mjs
	node scripts/browser-set.mjs
	rm -rf bindings/go/browserset/set && cp -r dist/browser bindings/go/browserset/set

$(DEMO_DB): examples/demo.sql node_modules/.stamp
	rm -f $@ $@-wal $@-shm
	node --no-warnings scripts/sqlite-exec.mjs $@ examples/demo.sql

demo: build $(DEMO_DB)
ifeq ($(HOST),deno)
	deno run -A deno/serve.ts --db $(DEMO_DB) --port $(PORT)
else ifeq ($(HOST),go)
	$(GO) run -tags browserset ./core/cmd/nakedhtmx --db $(DEMO_DB) --port $(PORT)
else
	$(HOST) npm/bin/nakedhtmx.js --db $(DEMO_DB) --port $(PORT)
endif

# Every test on every host. Ordered cheapest first so a broken build fails fast.
test: check-tracked build check-size vet test-go test-fuzz test-ts test-http test-browser test-packages test-nats
	@echo "make test: all suites passed"

# Fails when git tracks a build output: an executable, a wasm module, dist/,
# node_modules/, or a file over 1 MB outside testdata/.
check-tracked:
	bash scripts/check-tracked.sh --self-test
	bash scripts/check-tracked.sh

# The wasm core stays under 2 MiB gzipped (issue 16), measured as people
# measure it: gzip -9.
check-size: dist/core.wasm
	bash scripts/check-size.sh dist/core.wasm

vet:
	@out=$$(gofmt -l core bindings); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go mod tidy would change go.mod/go.sum"; exit 1; }

test-go: dist/core.wasm
	bash scripts/ensure-postgres.sh
	$(GO) test -count=1 ./...

# Real fuzzing, not only the seed corpus `go test` runs: names and values
# through quoting, SQLite and every page; the DDL parser; CHECK analysis; the
# fast SQL-result decoder against encoding/json; the multipart form parser
# against mime/multipart, media types against mime.ParseMediaType and the page
# escapers against html/template.
# Budgets are counts of executions (about 10 s each here), not durations: a
# duration races Go 1.26's fuzz coordinator at its deadline and fails with
# "context deadline exceeded" and no crasher (go.dev/issue/75804, fixed in 1.27).
# FUZZ=N scales them (FUZZ=10 for a longer run).
FUZZ ?= 1
# fuzz NAME,RUNS,PACKAGE. A name that is not there fails: go test would only
# warn "no fuzz tests to fuzz" and pass (a renamed target once went unrun).
fuzz = $(GO) test -list '^$(1)$$' $(3) | grep -qx '$(1)' || { echo "test-fuzz: no $(1) in $(3)" >&2; exit 1; }; \
	$(GO) test -run '^$$' -fuzz '^$(1)$$' -fuzztime $$(($(2) * $(FUZZ)))x $(3)
test-fuzz:
	$(call fuzz,FuzzNames,2000,./core/engine)
	$(call fuzz,FuzzQuote,20000,./core/engine)
	$(call fuzz,FuzzParseCreateTable,300000,./core/store/sqlite/ddl)
	$(call fuzz,FuzzAnalyzeCheck,300000,./core/store/sqlite/ddl)
	$(call fuzz,FuzzDecodeSQLResult,200000,./core/protocol)
	$(call fuzz,FuzzRequestHead,200000,./core/protocol)
	$(call fuzz,FuzzBinaryAnswer,200000,./core/protocol)
	$(call fuzz,FuzzBinaryRequest,100000,./core/protocol)
	$(call fuzz,FuzzResponseHead,20000,./core/protocol)
	$(call fuzz,FuzzTickRequest,100000,./core/protocol)
	$(call fuzz,FuzzTickResult,20000,./core/protocol)
	$(call fuzz,FuzzDecodeValues,100000,./core/protocol)
	$(call fuzz,FuzzString,100000,./core/jsonw)
	$(call fuzz,FuzzMultipart,100000,./core/engine)
	$(call fuzz,FuzzParseAsMime,500000,./core/mediatype)
	$(call fuzz,FuzzBody,200000,./core/engine)
	$(call fuzz,FuzzEscapers,100000,./core/render)

test-ts: build
	bash bindings/ts/test/run.sh

test-http: build
	bash scripts/ensure-realdbs.sh
	for h in go wasm deno bun node node22; do node tests/http/run.ts --host $$h && node tests/http/live.ts --host $$h || exit 1; done
	node tests/http/run.ts --compare
	# The same suites on Postgres (a throw-away cluster of the suites' own), every host; answers compared between them.
	bash scripts/ensure-postgres.sh
	node tests/http/run.ts --host go,wasm,deno,bun,node,node22 --store postgres
	node tests/http/live.ts --host go,wasm,deno,bun,node,node22 --store postgres
	for h in go wasm deno bun node node22; do node tests/http/load.ts --host $$h || exit 1; done

test-browser: build
	bash scripts/ensure-chromium.sh
	tsc -p tests
	tsc -p bench
	node tests/browser/ui.ts
	node tests/browser/live.ts
	node tests/browser/corpus.ts
	node tests/browser/replica.ts
	node tests/browser/offline.ts

# Scale-out: a real nats-server (built from the pinned Go module) and one node
# per host (native Go, wazero, Deno, Bun, Node) with --write jetstream, each
# with its own file.
test-nats: build
	bash scripts/ensure-nats-server.sh >/dev/null
	bash scripts/ensure-chromium.sh
	node tests/nats/run.ts --hosts go,wasm,deno,bun,node

# The packages as users get them: npm and JSR export the same, the tarball
# holds only what runs, JSR accepts the package, and every example runs from
# the packed tarball installed with npm and with bun.
test-packages: build
	node scripts/check-exports.mjs
	deno publish --dry-run --allow-dirty
	bash scripts/ensure-chromium.sh
	node tests/examples/run.ts

screenshots: build
	bash scripts/ensure-chromium.sh
	node tests/browser/ui.ts --screenshots

# Side by side with Datasette and PocketBase (bench/README.md). Prepares its
# own peers, data and load generator; never part of `make test`.
# BENCH_FLAGS=--quick for a short run.
bench: build
	node --no-warnings bench/compare.ts $(BENCH_FLAGS)

fmt:
	gofmt -w core bindings

clean:
	rm -rf dist $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
