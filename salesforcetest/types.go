package salesforcetest

import (
	"time"

	"github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
)

// The emulator's own types, re-exported so that code outside this module
// can use every option and control of a Server.
type (
	// Clock is the emulator's time source (see WithClock).
	Clock = clock.Clock
	// FakeClock is a Clock that moves only when a test advances it.
	FakeClock = clock.Fake
	// BulkOptions configure the Bulk API emulation (see WithBulkOptions).
	BulkOptions = bulk.Options
	// BulkService is the Bulk API emulation, with its fault controls
	// (FailNextJob, FailQueriesWithTimeout, DropNextUploads, ...).
	BulkService = bulk.Service
	// Instant is the default Bulk processing profile: no modelled delays.
	Instant = bulk.Instant
	// Realistic models Salesforce's Bulk API timing on the server's clock.
	Realistic = bulk.Realistic
	// Org is the emulated org's schema and record store.
	Org = org.Org
	// RowFault fails chosen rows with a chosen status code (Org.InjectRowFault).
	RowFault = org.RowFault
	// Config is the whole server configuration (see WithConfig).
	Config = emulator.Config
)

// NewFakeClock returns a FakeClock set to start.
func NewFakeClock(start time.Time) *FakeClock { return clock.NewFake(start) }

// DefaultRealistic is the timing of `sfbatch emulator --profile realistic`.
func DefaultRealistic() Realistic { return bulk.DefaultRealistic() }
