//go:build !integration

package conformance

import "testing"

// orgTarget is the real-org target; without the integration build tag there is none.
func orgTarget(*testing.T) (Target, bool) { return Target{}, false }
