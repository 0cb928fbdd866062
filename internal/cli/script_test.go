package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// TestMain lets the test binary run as the sfbatch command inside scripts,
// so every script executes the real command line in a real process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sfbatch": func() { os.Exit(Main()) },
	})
}

// scriptEmulator is the optional emulator.json of a script.
type scriptEmulator struct {
	Profile  string  `json:"profile"`
	LockRate float64 `json:"lock_contention"`
	Schema   string  `json:"schema"` // a schema file of the script, for custom objects
}

// TestScripts runs testdata/script/*.txtar. Each script gets its own
// emulated org over loopback HTTPS, with SF_INSTANCE_URL, SF_LOGIN_URL,
// SF_ACCESS_TOKEN and SF_CA_CERT_FILE set for it, the default user's
// credentials in EMU_USERNAME, EMU_PASSWORD and EMU_SECURITY_TOKEN (for
// scripts that log in), and HOME and XDG_CONFIG_HOME in the work directory.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			eo := &emulatorOptions{Addr: "127.0.0.1:0", Seed: 1}
			var se scriptEmulator
			if b, err := os.ReadFile(filepath.Join(env.WorkDir, "emulator.json")); err == nil {
				if err := json.Unmarshal(b, &se); err != nil {
					return fmt.Errorf("emulator.json: %w", err)
				}
				eo.Profile, eo.LockRate = se.Profile, se.LockRate
				if se.Schema != "" {
					eo.SchemaFile = filepath.Join(env.WorkDir, se.Schema)
				}
			}
			srv, err := startEmulator(eo)
			if err != nil {
				return err
			}
			env.Defer(func() { srv.Close() })
			info, err := srv.StartupInfo(env.WorkDir)
			if err != nil {
				return err
			}
			env.Setenv("SF_INSTANCE_URL", info.InstanceURL)
			env.Setenv("SF_LOGIN_URL", info.LoginURL)
			env.Setenv("SF_ACCESS_TOKEN", info.AccessToken)
			env.Setenv("SF_CA_CERT_FILE", info.CACertFile)
			env.Setenv("EMU_USERNAME", info.Username)
			env.Setenv("EMU_PASSWORD", info.Password)
			env.Setenv("EMU_SECURITY_TOKEN", info.SecurityToken)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"csvrows":  cmdCSVRows,
			"jsonenv":  cmdJSONEnv,
			"csvfield": cmdCSVField,
		},
	})
}

// csvrows FILE N: FILE is a CSV file with exactly N data rows.
func cmdCSVRows(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: csvrows FILE N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	got := len(readCSV(ts, args[0])) - 1
	if (got == want) == neg {
		ts.Fatalf("%s has %d data rows, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// csvfield FILE ROW COLUMN VALUE: data row ROW (1-based) of FILE has VALUE
// in COLUMN.
func cmdCSVField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: csvfield FILE ROW COLUMN VALUE")
	}
	rows := readCSV(ts, args[0])
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	if n < 1 || n >= len(rows) {
		ts.Fatalf("%s has no data row %d", args[0], n)
	}
	col := -1
	for i, h := range rows[0] {
		if h == args[2] {
			col = i
		}
	}
	if col < 0 {
		ts.Fatalf("%s has no column %s (header %q)", args[0], args[2], rows[0])
	}
	if got := rows[n][col]; (got == args[3]) == neg {
		ts.Fatalf("%s row %d %s = %q, want %q", args[0], n, args[2], got, args[3])
	}
}

func readCSV(ts *testscript.TestScript, name string) [][]string {
	f, err := os.Open(ts.MkAbs(name))
	ts.Check(err)
	defer f.Close()
	r := sfcsv.NewReader(f, sfcsv.ReaderOptions{Name: name})
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows
		}
		ts.Check(err)
		rows = append(rows, append([]string(nil), rec...))
	}
}

// jsonenv VAR FILE KEY [INDEX]: sets VAR to the string at KEY (or element
// INDEX of the array at KEY) of the JSON object in FILE. KEY may be a path
// through nested objects, such as data.jobs.
func cmdJSONEnv(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 || len(args) > 4 || neg {
		ts.Fatalf("usage: jsonenv VAR FILE KEY [INDEX]")
	}
	raw := json.RawMessage(ts.ReadFile(args[1]))
	for _, key := range strings.Split(args[2], ".") {
		var doc map[string]json.RawMessage
		ts.Check(json.Unmarshal(raw, &doc))
		var ok bool
		if raw, ok = doc[key]; !ok {
			ts.Fatalf("%s has no key %s", args[1], args[2])
		}
	}
	var s string
	if len(args) == 4 {
		var arr []string
		ts.Check(json.Unmarshal(raw, &arr))
		i, err := strconv.Atoi(args[3])
		ts.Check(err)
		if i >= len(arr) {
			ts.Fatalf("%s.%s has %d elements", args[1], args[2], len(arr))
		}
		s = arr[i]
	} else {
		ts.Check(json.Unmarshal(raw, &s))
	}
	ts.Setenv(args[0], s)
}
