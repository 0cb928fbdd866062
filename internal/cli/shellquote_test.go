package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestExportLineInShells runs the printed export line in every shell on the
// machine and reads the values back.
func TestExportLineInShells(t *testing.T) {
	t.Parallel()
	values := []string{
		"https://127.0.0.1:8443",
		"00D000000000001!AQ$x`y`\"z\"",
		`/tmp/it's here/ca cert.pem`,
		`C:\Users\ada\ca.pem`,
		`back\\slash and 'quotes' and $(rm -rf x) and *`,
		"",
	}
	line := exportLine([2]string{"A", values[0]}, [2]string{"B", values[1]}, [2]string{"C", values[2]},
		[2]string{"D", values[3]}, [2]string{"E", values[4]}, [2]string{"F", values[5]})
	var ran []string
	for _, sh := range []string{"sh", "bash", "dash", "zsh", "fish"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		ran = append(ran, sh)
		script := line + `; printf '%s\n' "$A" "$B" "$C" "$D" "$E" "$F"`
		out, err := exec.CommandContext(t.Context(), path, "-c", script).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", sh, err, out)
			continue
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(got) != len(values) {
			t.Errorf("%s printed %q", sh, out)
			continue
		}
		for i := range values {
			if got[i] != values[i] {
				t.Errorf("%s: value %d = %q, want %q (line %s)", sh, i, got[i], values[i], line)
			}
		}
	}
	if len(ran) == 0 {
		t.Skip("no shell on this machine")
	}
	t.Logf("ran in %s", strings.Join(ran, ", "))
}

func TestPowerShellLine(t *testing.T) {
	t.Parallel()
	got := powerShellLine([2]string{"A", "https://x"}, [2]string{"B", `C:\it's $here`})
	want := `$env:A='https://x'; $env:B='C:\it''s $here'`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
