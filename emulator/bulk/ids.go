package bulk

import "strings"

// Key prefixes of the ids the service issues (protocol reference §0.5).
const (
	prefixJob    = "750"
	prefixBatch  = "751"
	prefixResult = "752"
)

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newIDLocked returns a fresh 18-character id with the given key prefix.
// Caller holds s.mu.
func (s *Service) newIDLocked(prefix string) string {
	s.seq++
	return makeID(prefix, s.seq)
}

// makeID builds "{prefix}SB{10 base-62 digits of n}" plus the checksum.
func makeID(prefix string, n uint64) string {
	var b [15]byte
	copy(b[:], prefix)
	b[3], b[4] = 'S', 'B'
	for i := 14; i >= 5; i-- {
		b[i] = base62Digits[n%62]
		n /= 62
	}
	return string(b[:]) + idChecksum(string(b[:]))
}

// idChecksum computes the 3-character suffix that makes a 15-character id
// case-insensitive.
func idChecksum(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var out [3]byte
	for g := range 3 {
		v := 0
		for i := range 5 {
			c := id15[g*5+i]
			if c >= 'A' && c <= 'Z' {
				v |= 1 << i
			}
		}
		out[g] = alphabet[v]
	}
	return string(out[:])
}

// sameID reports whether a and b name the same record, comparing 15- and
// 18-character forms.
func sameID(a, b string) bool {
	if len(a) >= 15 && len(b) >= 15 {
		return a[:15] == b[:15]
	}
	return strings.EqualFold(a, b)
}
