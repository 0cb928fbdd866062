package salesforce

import (
	"context"
	"net/http"
)

// Limit is one org limit from the limits resource.
type Limit struct {
	Max       int64 `json:"Max"`
	Remaining int64 `json:"Remaining"`
}

// Used is Max - Remaining.
func (l Limit) Used() int64 { return l.Max - l.Remaining }

// Well-known keys of the limits resource.
const (
	LimitDailyAPIRequests     = "DailyApiRequests"
	LimitDailyBulkAPIBatches  = "DailyBulkApiBatches"
	LimitDailyBulkAPIRequests = "DailyBulkApiRequests" // older name of DailyBulkApiBatches
	LimitDailyBulkV2QueryJobs = "DailyBulkV2QueryJobs"
	LimitDataStorageMB        = "DataStorageMB"
	LimitFileStorageMB        = "FileStorageMB"
)

// Limits returns the org's limits keyed by name (GET /services/data/vXX.X/limits), such as
// "DailyApiRequests". Per-app breakdowns nested in some entries are not returned.
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	var m map[string]Limit
	if err := c.doJSON(ctx, &request{method: http.MethodGet, path: c.dataPath("limits")}, nil, &m); err != nil {
		return nil, err
	}
	return m, nil
}
