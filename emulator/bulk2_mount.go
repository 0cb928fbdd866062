package emulator

import "strings"

// isBulk2Path reports whether p is /services/data/v{ver}/jobs[/...].
func isBulk2Path(p string) bool {
	rest := strings.TrimPrefix(p, "/services/data/")
	_, after, ok := strings.Cut(rest, "/")
	return ok && (after == "jobs" || strings.HasPrefix(after, "jobs/"))
}
