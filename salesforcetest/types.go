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
//
// They are aliases, not copies: a salesforcetest.Org is the *org.Org that
// Server.Org returns, a Config is an emulator.Config, and so on. The types
// they name are public and documented in their own packages, where `go doc`
// lists their methods and fields; each alias below names that place.
// (Wrapper types would repeat every method of the org and the Bulk service
// here, and drift from them.)
type (
	// Clock is the emulator's time source (see WithClock). Its methods:
	// go doc github.com/sfbatch/sfbatch/emulator/clock.Clock.
	Clock = clock.Clock
	// FakeClock is a Clock that moves only when a test advances it
	// (Advance, Set). Its methods: go doc
	// github.com/sfbatch/sfbatch/emulator/clock.Fake.
	FakeClock = clock.Fake
	// BulkOptions configure the Bulk API emulation (see WithBulkOptions).
	// Its fields: go doc github.com/sfbatch/sfbatch/emulator/bulk.Options.
	BulkOptions = bulk.Options
	// BulkService is the Bulk API emulation, with its fault controls
	// (FailNextJob, FailQueriesWithTimeout, DropNextUploads, FailRows,
	// SetLockContentionRate, WaitIdle). Its methods: go doc
	// github.com/sfbatch/sfbatch/emulator/bulk.Service.
	BulkService = bulk.Service
	// Instant is the default Bulk processing profile: no modelled delays.
	// See go doc github.com/sfbatch/sfbatch/emulator/bulk.Instant.
	Instant = bulk.Instant
	// Realistic models Salesforce's Bulk API timing on the server's clock.
	// Its fields: go doc github.com/sfbatch/sfbatch/emulator/bulk.Realistic.
	Realistic = bulk.Realistic
	// Org is the emulated org's schema and record store (Write, Get,
	// Query, Count, Limits, InjectRowFault, ...). Its methods: go doc
	// github.com/sfbatch/sfbatch/emulator/org.Org.
	Org = org.Org
	// RowFault fails chosen rows with a chosen status code (Org.InjectRowFault).
	// Its fields: go doc github.com/sfbatch/sfbatch/emulator/org.RowFault.
	RowFault = org.RowFault
	// Config is the whole server configuration (see WithConfig). Its
	// fields: go doc github.com/sfbatch/sfbatch/emulator.Config.
	Config = emulator.Config
	// LimitModel is the org's request limit model (see WithLimits). Its
	// fields: go doc github.com/sfbatch/sfbatch/emulator.LimitModel.
	LimitModel = emulator.LimitModel
)

// NewFakeClock returns a FakeClock set to start.
func NewFakeClock(start time.Time) *FakeClock { return clock.NewFake(start) }

// DefaultRealistic is the timing of `sfbatch emulator --profile realistic`.
func DefaultRealistic() Realistic { return bulk.DefaultRealistic() }

// RealisticLimits is the limit model of `sfbatch emulator --profile realistic`.
func RealisticLimits() LimitModel { return emulator.RealisticLimits() }
