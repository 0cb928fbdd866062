package salesforce

import (
	"context"
	"net/http"
)

// Version is one API version the org serves.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the API versions the instance serves, oldest first (GET /services/data/).
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	var vs []Version
	if err := c.doJSON(ctx, &request{method: http.MethodGet, path: "/services/data/"}, nil, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}
