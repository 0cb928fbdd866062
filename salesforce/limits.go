package salesforce

import (
	"strconv"
	"strings"
)

// LimitInfo is the API usage reported in the Sforce-Limit-Info response header, such as
// "api-usage=25/15000; per-app-api-usage=17/250(appName=sample-connected-app)".
type LimitInfo struct {
	// Used and Max are the org's API requests in the last 24 hours and its allocation.
	Used, Max int64
	// AppUsed, AppMax and AppName are the per-connected-app usage, when reported.
	AppUsed, AppMax int64
	AppName         string
}

// Remaining is Max - Used (never negative).
func (l LimitInfo) Remaining() int64 { return max(0, l.Max-l.Used) }

// LimitInfo returns the usage from the last response that carried Sforce-Limit-Info; the zero
// LimitInfo if none has yet.
func (c *Client) LimitInfo() LimitInfo {
	if p := c.limitInfo.Load(); p != nil {
		return *p
	}
	return LimitInfo{}
}

// parseLimitInfo parses a Sforce-Limit-Info header. It accepts exactly the shapes
// simple-salesforce matches: "api-usage=N/M" and "per-app-api-usage=N/M(appName=X)".
func parseLimitInfo(h string) (LimitInfo, bool) {
	var li LimitInfo
	found := false
	for part := range strings.SplitSeq(h, ";") {
		part = strings.TrimSpace(part)
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "api-usage":
			used, max, ok := parseUsage(val)
			if ok {
				li.Used, li.Max, found = used, max, true
			}
		case "per-app-api-usage":
			nums, rest, _ := strings.Cut(val, "(")
			used, max, ok := parseUsage(nums)
			if ok {
				li.AppUsed, li.AppMax = used, max
				if name, ok := strings.CutPrefix(rest, "appName="); ok {
					li.AppName = strings.TrimSuffix(name, ")")
				}
			}
		}
	}
	return li, found
}

func parseUsage(s string) (used, max int64, ok bool) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, false
	}
	u, err1 := strconv.ParseInt(a, 10, 64)
	m, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || u < 0 || m < 0 {
		return 0, 0, false
	}
	return u, m, true
}
