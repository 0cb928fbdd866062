package soql

import "unicode"

// Like reports whether s matches the SOQL LIKE pattern: % matches any run of
// characters, _ exactly one, \% and \_ a literal percent sign and underscore.
// Matching is case-insensitive, as in Salesforce.
func Like(pattern, s string) bool {
	type pc struct {
		r    rune
		kind byte // 'c' literal, '%' any run, '_' one
	}
	var pat []pc
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch r := pr[i]; {
		case r == '\\' && i+1 < len(pr) && (pr[i+1] == '%' || pr[i+1] == '_' || pr[i+1] == '\\'):
			pat = append(pat, pc{r: fold(pr[i+1]), kind: 'c'})
			i++
		case r == '%':
			pat = append(pat, pc{kind: '%'})
		case r == '_':
			pat = append(pat, pc{kind: '_'})
		default:
			pat = append(pat, pc{r: fold(r), kind: 'c'})
		}
	}
	str := []rune(s)
	// Iterative wildcard matching with backtracking to the last %.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(pat) && (pat[pi].kind == '_' || (pat[pi].kind == 'c' && pat[pi].r == fold(str[si]))):
			pi++
			si++
		case pi < len(pat) && pat[pi].kind == '%':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi].kind == '%' {
		pi++
	}
	return pi == len(pat)
}

func fold(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }
