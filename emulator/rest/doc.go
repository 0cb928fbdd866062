// Package rest serves the emulator's REST API over an org: versions,
// resources, limits, describe, sObject CRUD and upsert, query and queryAll
// with cursors, Composite batch, Composite and sObject Collections. Requests
// reach it already authenticated (wire.SessionFrom is non-nil).
//
// # Files
//
// handler.go routes /services/data/v{ver}/... to the resources;
// sobjects.go, describe.go and query.go serve single records, metadata and
// SOQL cursors; collections.go the sObject Collections; composite.go,
// tree.go and graph.go the composite resources; journal.go records the
// writes of an allOrNone request so that they can be rolled back; json.go
// renders records.
//
// # What this package owns, and what it must not touch
//
// It owns the REST wire format: paths, methods, JSON bodies, REST's error
// array, query cursors and composite semantics (allOrNone rollback,
// reference ids). It does not decide what a write does to a record: every
// create, update, upsert and delete goes through org.Org.Write, so REST,
// composite and Bulk validate alike. It does not authenticate, count API
// requests or apply faults (package emulator does, before a request
// arrives), and does not serve /jobs (package bulk). It never imports the
// client packages (salesforce, load, extract).
package rest
