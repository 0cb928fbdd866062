package org

import (
	"strings"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/soql"
)

// likeMatcher compiles a LIKE pattern. Patterns of ASCII text with %
// only at the ends (exact, prefix, suffix, contains) are matched without
// allocating; everything else goes through soql.Like.
func likeMatcher(pattern string) func(string) bool {
	general := func(s string) bool { return soql.Like(pattern, s) }
	lead := strings.HasPrefix(pattern, "%")
	core := strings.TrimPrefix(pattern, "%")
	trail := strings.HasSuffix(core, "%") && !strings.HasSuffix(core, `\%`)
	core = strings.TrimSuffix(core, "%")
	if strings.ContainsAny(core, `%_\`) {
		return general
	}
	for i := 0; i < len(core); i++ {
		if core[i] >= utf8.RuneSelf {
			return general
		}
	}
	n := len(core)
	// A non-ASCII s may fold onto ASCII letters (e.g. the Kelvin sign), so
	// a miss on such a string is re-checked the slow way.
	recheck := func(s string, hit bool) bool {
		if hit {
			return true
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return general(s)
			}
		}
		return false
	}
	switch {
	case !lead && !trail:
		return func(s string) bool { return recheck(s, strings.EqualFold(s, core)) }
	case !lead && trail:
		return func(s string) bool { return recheck(s, len(s) >= n && strings.EqualFold(s[:n], core)) }
	case lead && !trail:
		return func(s string) bool { return recheck(s, len(s) >= n && strings.EqualFold(s[len(s)-n:], core)) }
	}
	return func(s string) bool {
		for i := 0; i+n <= len(s); i++ {
			if strings.EqualFold(s[i:i+n], core) {
				return true
			}
		}
		return recheck(s, false)
	}
}
