// Package wire holds the few pieces of the emulator's wire format that every
// endpoint family shares: the authenticated session carried in a request's
// context, exact media types, JSON responses and the REST error array, and
// API version parsing. The REST, composite and Bulk handlers all use it, so
// that a response header or error shape is written in one place.
//
// # What this package owns, and what it must not touch
//
// It owns only what more than one emulator package writes or reads the
// same way. It imports nothing of the emulator and holds no state: a shape
// used by one API alone (Bulk 1.0's XML, SOAP's envelope) stays in that
// API's package.
package wire
