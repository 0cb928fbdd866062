//go:build tools

// This file pins the module's third-party dependencies while the packages
// that use them are being written; `go mod tidy` keeps requirements that
// files under any build tag import.
package sfbatch

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/vbauerster/mpb/v8"
	_ "golang.org/x/sync/errgroup"
	_ "modernc.org/sqlite"
)
