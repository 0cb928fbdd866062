package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckExport(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	if err := writeInput(input, 3); err != nil {
		t.Fatal(err)
	}
	want, n, err := fingerprint(input, false)
	if err != nil || n != 3 {
		t.Fatalf("input: %d rows, %v", n, err)
	}
	in, _ := os.ReadFile(input)
	lines := strings.Split(strings.TrimSpace(string(in)), "\n")
	// The rows in another order, with Ids, the columns moved and a value quoted.
	ok := "Id," + lines[0] + "\n" +
		"003A," + lines[3] + "\n" +
		"003B," + strings.Replace(lines[1], "First0", `"First0"`, 1) + "\n" +
		"003C," + lines[2] + "\n"
	cases := []struct {
		name, body, err string
	}{
		{"same rows", ok, ""},
		{"a value differs", strings.Replace(ok, "Last00000001", "Last00000009", 1), "differ"},
		{"a row missing", strings.Join(strings.SplitAfter(ok, "\n")[:3], ""), "differ"},
		{"an Id twice", strings.Replace(ok, "003C", "003A", 1), "seen before"},
		{"no Id column", string(in), "want 11 columns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "out.csv")
			if err := os.WriteFile(out, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			sum, n, err := fingerprint(out, true)
			_, err = verdict(sum, n, err, want)
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("checkExport: %v, want %q", err, c.err)
			}
		})
	}
}

func TestProcCPU(t *testing.T) {
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}
