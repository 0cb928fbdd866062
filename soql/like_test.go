package soql

import "testing"

func TestLike(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "ABC", true},
		{"abc", "abcd", false},
		{"a%", "a", true},
		{"a%", "Acme Corp", true},
		{"%corp", "Acme Corp", true},
		{"%me C%", "Acme Corp", true},
		{"%", "", true},
		{"", "", true},
		{"", "a", false},
		{"_", "", false},
		{"_", "x", true},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"a%b%c", "aXXbYYc", true},
		{"a%b%c", "aXXbYY", false},
		{"%a%a%a%", "banana", true},
		{"%a%a%a%a%", "banana", false},
		{`50\%`, "50%", true},
		{`50\%`, "500", false},
		{`a\_b`, "a_b", true},
		{`a\_b`, "axb", false},
		{"é%", "Élan", true},
		{"__", "世界", true},
		{"%%%x", "abcx", true},
	}
	for _, tt := range tests {
		if got := Like(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Like(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
