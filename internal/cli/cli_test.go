package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := Run(t.Context(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, []string{"version"})
	if code != ExitOK {
		t.Fatalf("exit code = %d, want %d (stderr %q)", code, ExitOK, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "sfbatch ") {
		t.Errorf("output = %q, want it to start with %q", out.String(), "sfbatch ")
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := Run(t.Context(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, []string{"version", "--nope"})
	if code != ExitUsage {
		t.Fatalf("exit code = %d, want %d", code, ExitUsage)
	}
}
