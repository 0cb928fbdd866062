package cli

import "strings"

// shellWord quotes s as one word for POSIX shells (sh, bash, zsh, dash) and
// fish alike: runs of ordinary characters go in single quotes, and the two
// characters whose meaning inside single quotes differs between those shells,
// ' and \, are escaped with a backslash outside the quotes.
func shellWord(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	open := false
	for _, r := range s {
		if r == '\'' || r == '\\' {
			if open {
				b.WriteByte('\'')
				open = false
			}
			b.WriteByte('\\')
			b.WriteRune(r)
			continue
		}
		if !open {
			b.WriteByte('\'')
			open = true
		}
		b.WriteRune(r)
	}
	if open {
		b.WriteByte('\'')
	}
	return b.String()
}

// shellQuote is shellWord, except that a word of only ordinary characters
// (letters, digits and -_./=:,@) stays bare, for readable printed commands.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@", r))
	}) < 0 {
		return s
	}
	return shellWord(s)
}

// exportLine returns an `export NAME=VALUE ...` line with every value quoted by
// shellWord, for pasting into any of those shells.
func exportLine(pairs ...[2]string) string {
	var b strings.Builder
	b.WriteString("export")
	for _, p := range pairs {
		b.WriteString(" ")
		b.WriteString(p[0])
		b.WriteString("=")
		b.WriteString(shellWord(p[1]))
	}
	return b.String()
}

// powerShellLine returns the PowerShell form of exportLine:
// $env:NAME='VALUE'; ... with ' doubled, PowerShell's only escape inside
// single quotes.
func powerShellLine(pairs ...[2]string) string {
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = "$env:" + p[0] + "='" + strings.ReplaceAll(p[1], "'", "''") + "'"
	}
	return strings.Join(parts, "; ")
}
