package org

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base62 formats n in base 62 with at least width digits.
func base62(n uint64, width int) string {
	var buf [16]byte
	i := len(buf)
	for n > 0 || len(buf)-i < width {
		i--
		buf[i] = base62Digits[n%62]
		n /= 62
	}
	return string(buf[i:])
}

// idSuffix returns the 3-character case-safe checksum of a 15-character id
// (protocol reference §0.5).
func idSuffix(id15 string) [3]byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var out [3]byte
	for g := 0; g < 3; g++ {
		n := 0
		for i := 0; i < 5; i++ {
			c := id15[g*5+i]
			if 'A' <= c && c <= 'Z' {
				n |= 1 << i
			}
		}
		out[g] = alphabet[n]
	}
	return out
}

// To18 converts a 15-character id to its 18-character form.
func To18(id15 string) string {
	s := idSuffix(id15)
	return id15 + string(s[:])
}

// NormalizeID checks that id is a syntactically valid 15- or 18-character
// Salesforce id and returns its 18-character form. An 18-character id is
// case-insensitive: the case of its first 15 characters is restored from the
// checksum, and an id whose checksum cannot be decoded is invalid.
func NormalizeID(id string) (string, bool) {
	switch len(id) {
	case 15:
		if !isAlnum(id) {
			return "", false
		}
		return To18(id), true
	case 18:
		if !isAlnum(id) {
			return "", false
		}
		var b [18]byte
		copy(b[:], id)
		for g := 0; g < 3; g++ {
			c := b[15+g]
			var n int
			switch {
			case 'A' <= c && c <= 'Z':
				n = int(c - 'A')
			case 'a' <= c && c <= 'z':
				n = int(c - 'a')
			case '0' <= c && c <= '5':
				n = int(c-'0') + 26
			default:
				return "", false
			}
			for i := 0; i < 5; i++ {
				p := g*5 + i
				upper := n&(1<<i) != 0
				ch := b[p]
				isLetter := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z'
				switch {
				case upper && !isLetter:
					return "", false
				case upper && 'a' <= ch && ch <= 'z':
					b[p] = ch - 'a' + 'A'
				case !upper && 'A' <= ch && ch <= 'Z':
					b[p] = ch - 'A' + 'a'
				}
			}
		}
		s := idSuffix(string(b[:15]))
		copy(b[15:], s[:])
		return string(b[:]), true
	}
	return "", false
}

// idGen mints ids: key prefix, a 2-character pod, a reserved "0" and a
// 9-character base-62 counter shared by all objects of the org, plus the
// checksum.
type idGen struct {
	pod  string
	next uint64
}

func newIDGen(seed int64) idGen {
	u := uint64(seed)
	// A seed-dependent pod keeps ids of differently seeded orgs apart while
	// staying deterministic. Seed 0 gives the familiar "5g".
	pod := "5g"
	if seed != 0 {
		u = u*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
		pod = string([]byte{base62Digits[1+u%9], base62Digits[36+(u>>8)%26]})
	}
	return idGen{pod: pod, next: 1}
}

func (g *idGen) mint(prefix string) string {
	var b [18]byte
	g.mintTo(&b, prefix)
	return string(b[:])
}

// mintTo is mint into b.
func (g *idGen) mintTo(b *[18]byte, prefix string) {
	n := g.next
	g.next++
	copy(b[:3], prefix)
	copy(b[3:5], g.pod)
	b[5] = '0'
	for i := 14; i >= 6; i-- {
		b[i] = base62Digits[n%62]
		n /= 62
	}
	s := idSuffix(string(b[:15]))
	copy(b[15:], s[:])
}

// idIndex finds records by the ids the org mints itself (its pod, "0",
// then a counter shared by every object): by that counter, in one slice
// for the whole org, with no hashing and little for the garbage collector
// to scan. Ids of another shape (minted under another seed, kept in a data
// file) are in their table's map instead.
type idIndex struct {
	pod   string
	byNum []*record // by counter; nil where no live record has it
}

// num returns the counter of an 18-character id the org minted.
func (x *idIndex) num(id string) (uint64, bool) {
	if len(id) != 18 || id[5] != '0' {
		return 0, false
	}
	return counterOf(id, x.pod)
}

// counterOf decodes the counter of an id minted under pod: its characters
// 6 to 14, in base 62.
func counterOf(id, pod string) (uint64, bool) {
	if len(id) < 15 || id[3:5] != pod {
		return 0, false
	}
	var n uint64
	for i := 6; i < 15; i++ {
		c := id[i]
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'A' <= c && c <= 'Z':
			d = uint64(c-'A') + 10
		case 'a' <= c && c <= 'z':
			d = uint64(c-'a') + 36
		default:
			return 0, false
		}
		n = n*62 + d
	}
	return n, true
}

// observe advances the counter past an existing id minted by this scheme.
func (g *idGen) observe(id string) {
	n, ok := counterOf(id, g.pod)
	if !ok {
		return
	}
	if n >= g.next {
		g.next = n + 1
	}
}
