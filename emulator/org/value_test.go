package org

import "testing"

// TestHasEmailSpecial checks every byte against the characters an email
// address may not hold.
func TestHasEmailSpecial(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		want := false
		switch byte(c) {
		case ' ', '\t', '\r', '\n', ',', ';', '<', '>', '(', ')', '[', ']', '\\', '"':
			want = true
		}
		if got := hasEmailSpecial("a" + string([]byte{byte(c)}) + "b"); got != want {
			t.Errorf("byte %d: %v, want %v", c, got, want)
		}
	}
}
