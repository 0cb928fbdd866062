package load

import (
	"context"

	"github.com/sfbatch/sfbatch/salesforce"
)

// New returns a Loader that sends rows through c: Bulk API 2.0 (c.Bulk2), Bulk API 1.0
// (c.Bulk1), sObject Collections (c.Composite), describe (c.Describe) for the preflight and the
// limits resource (c.Limits) for Options.MaxAPIShare.
func New(c *salesforce.Client) *Loader {
	return &Loader{bulk2: c.Bulk2, bulk1: c.Bulk1, coll: c.Composite, desc: c, limits: c}
}

// Load is New(c).Load(ctx, src, sink, opts).
func Load(ctx context.Context, c *salesforce.Client, src Source, sink Sink, opts Options) (*Summary, error) {
	return New(c).Load(ctx, src, sink, opts)
}
