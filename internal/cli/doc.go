// Package cli implements the sfbatch command line: one file per command,
// each with an Options struct, a newXxxCmd function that binds flags, and a
// run function that tests can call directly. It is an adapter over the public
// packages (load, extract, salesforce, salesforcetest) and holds no logic a Go
// user could not reach.
//
// # What this package owns, and what it must not touch
//
// It owns the command line: flags, help text, exit codes, output formats
// (tables, --json), progress bars, credentials in the keyring, the run folder
// of a load and the `pipe` journal it keeps through package jobstore or
// dirjournal. It does not speak the Salesforce wire format (package
// salesforce does), decide how rows are chunked, retried or joined to their
// results (packages load and extract do), or emulate an org (package
// emulator does; the `emulator` and `demo` commands only serve it). Nothing
// imports it but cmd/sfbatch: it sits at the top, and every import runs
// downward from it.
package cli
