package org

import (
	"errors"
	"testing"
	"time"
)

func TestDailyBulkV2IngestRecords(t *testing.T) {
	t.Parallel()
	o, clk := newOrg(t, nil)
	if got := o.Limits()[LimitDailyBulkV2IngestRecords]; got != (Limit{Max: 150_000_000, Remaining: 150_000_000}) {
		t.Fatalf("%s = %+v, want 150,000,000", LimitDailyBulkV2IngestRecords, got)
	}
	o.SetLimit(LimitDailyBulkV2IngestRecords, 500, 300)
	if err := o.Consume(LimitDailyBulkV2IngestRecords, 200); err != nil {
		t.Fatal(err)
	}
	err := o.Consume(LimitDailyBulkV2IngestRecords, 101)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != CodeRequestLimitExceeded ||
		e.Message != "Exceeded max number of Bulk API 2.0 ingest records allowed in 24 hour period" {
		t.Fatalf("Consume past the allowance = %v", err)
	}
	if got := o.Limits()[LimitDailyBulkV2IngestRecords]; got != (Limit{Max: 500, Remaining: 100}) {
		t.Errorf("after a refused Consume = %+v, want nothing taken", got)
	}
	clk.Advance(24 * time.Hour)
	if got := o.Limits()[LimitDailyBulkV2IngestRecords]; got != (Limit{Max: 500, Remaining: 500}) {
		t.Errorf("after a day = %+v, want reset", got)
	}
}
