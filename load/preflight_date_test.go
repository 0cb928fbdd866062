package load

import (
	"fmt"
	"testing"
	"time"
)

// TestIsDateAgreesWithTimeParse checks that isDate accepts only what
// time.Parse("2006-01-02", v) accepts, and accepts every valid day of a few years.
func TestIsDateAgreesWithTimeParse(t *testing.T) {
	t.Parallel()
	var vals []string
	for _, y := range []int{0, 1900, 1999, 2000, 2023, 2024, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				vals = append(vals, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
	vals = append(vals, "", "2024-1-01", "2024-01-1", "2024/01/01", "2024-01-01T00:00:00Z", "+024-01-01",
		"2024-01-0a", "２０２４-01-01", " 2024-01-01", "2024-01-01 ", "-024-01-01", "2024--1-01")
	for _, v := range vals {
		_, err := time.Parse("2006-01-02", v)
		if got := isDate(v); got && err != nil {
			t.Errorf("isDate(%q) = true, time.Parse: %v", v, err)
		} else if !got && err == nil && len(v) == 10 {
			t.Errorf("isDate(%q) = false, time.Parse accepts it", v)
		}
	}
}
