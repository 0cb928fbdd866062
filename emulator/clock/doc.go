// Package clock is the emulator's injectable time source. Everything in the
// emulator that reads the time or waits (session expiry, daily limits, the
// realistic processing profile, job timestamps) goes through a Clock, so tests
// can step time forward instead of sleeping.
//
// # What this package owns, and what it must not touch
//
// It owns Clock, the wall clock Real, and Fake, which moves only when a
// test calls Advance or Set and fires After channels in deadline order.
// It is a leaf: it imports nothing of the emulator, and no emulator code
// calls time.Now or time.After directly, only a Clock (the one exception is
// the TLS certificate's validity, which clients check against real time).
package clock
