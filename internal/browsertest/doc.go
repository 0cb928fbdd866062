// Package browsertest runs headless Chromium for the tests of pages sfbatch writes (the run
// report): it finds the browser, opens a file with the network features that would reach
// out switched off, and returns the page's DOM after its scripts ran and the browser's log,
// where console messages appear as CONSOLE lines. Only tests import it.
//
// # What this package owns, and what it must not touch
//
// It owns finding the browser and running it headless on one local file,
// with the browser's own network features (background networking, component
// updates, sync) switched off. It knows nothing of what the page holds (the
// tests that import it check that), starts no server, and is never imported
// by non-test code.
package browsertest
