# `make check` runs exactly what CI runs (.ci/run -> scripts/check).
.PHONY: check test demo bench build

check:
	scripts/check

test:
	go test ./...

build:
	go build -o bin/sfbatch ./cmd/sfbatch

demo:
	go run ./cmd/sfbatch demo

bench:
	go test -run '^$$' -bench . -benchmem ./...
