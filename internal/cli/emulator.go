package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/emulator/bulk"
)

// emulatorOptions are the flags of `sfbatch emulator`.
type emulatorOptions struct {
	Addr            string
	HTTPAddr        string
	NoTLS           bool
	SchemaFile      string
	DataFile        string
	AccessFile      string
	SessionLifetime time.Duration
	Profile         string
	LockRate        float64
	DailyAPIMax     int // --daily-api-requests
	Seed            int64
	JSON            bool
	CACertDir       string
	NoSOAPLogin     bool
	CountOnly       bool
	LogRequests     bool
}

func newEmulatorCmd(ios *IOStreams) *cobra.Command {
	opts := &emulatorOptions{}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run a local emulated Salesforce org",
		Long: `Run a stateful local Salesforce org that speaks the REST, SOAP login, OAuth,
Composite and Bulk API 1.0 / 2.0 wire protocols, for offline tests, CI and demos.

It listens on loopback by default, serves HTTPS with a self-signed certificate
(the CA certificate is written to a file whose path is printed), and prints the
emulator's own local credentials, then serves until interrupted. Records are kept
in memory, or in a SQLite file with --data, which also keeps the Bulk jobs (their
state, uploaded data and results), the sessions and the CA certificate, so a
restarted emulator finishes the jobs it had begun and clients keep trusting it
with the tokens they hold.

--schema adds custom objects and fields from a JSON file. Its format, with an
example and every key, is in the emulator package's documentation, section
"Schema files": go doc github.com/sfbatch/sfbatch/emulator, or
https://pkg.go.dev/github.com/sfbatch/sfbatch/emulator#hdr-Schema_files`,
		Example: `  # Start an org and print its connection details
  sfbatch emulator

  # Machine-readable details for scripts and CI, records kept across restarts
  sfbatch emulator --json --data org.db --addr 127.0.0.1:8443

  # Custom objects, plain HTTP, Salesforce-like job timing, your own users and apps
  sfbatch emulator --schema schema.json --no-tls --profile realistic --access access.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEmulator(cmd, ios, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Addr, "addr", "127.0.0.1:8443", "listen address (loopback by default)")
	f.StringVar(&opts.HTTPAddr, "http-addr", "", "additional plain-HTTP listen address when TLS is on")
	f.BoolVar(&opts.NoTLS, "no-tls", false, "serve plain HTTP instead of HTTPS")
	f.StringVar(&opts.SchemaFile, "schema", "", "JSON file of custom objects and fields (format: see above)")
	f.StringVar(&opts.DataFile, "data", "", "SQLite file that keeps records, Bulk jobs and the CA certificate across restarts (default: in memory)")
	f.StringVar(&opts.AccessFile, "access", "", `JSON file of users and connected apps: {"users":[{"username","password","security_token"}],"apps":[{"client_id","client_secret","certificate_pem","run_as"}]}`)
	f.DurationVar(&opts.SessionLifetime, "session-lifetime", 0, "how long a session lives (default 2h)")
	f.StringVar(&opts.Profile, "profile", "instant", "Bulk API processing profile and limit model: instant or realistic (also 100 ms per synchronous call, 100 requests in flight, 25 long-running calls)")
	f.Float64Var(&opts.LockRate, "lock-contention", 0, "probability [0,1] that a row of a Parallel bulk job fails with UNABLE_TO_LOCK_ROW when batches share a parent")
	f.IntVar(&opts.DailyAPIMax, "daily-api-requests", 0, "the org's DailyApiRequests maximum, counted in Sforce-Limit-Info and /limits (default 15000)")
	f.Int64Var(&opts.Seed, "seed", 1, "seed for ids and injected faults")
	f.BoolVar(&opts.JSON, "json", false, "print the connection details as one JSON line")
	f.BoolVar(&opts.NoSOAPLogin, "soap-login-disabled", false, `turn the org's "Enable SOAP API login()" setting off, as in orgs created from Winter '26 on (login() at API 65.0 and later is refused regardless)`)
	f.BoolVar(&opts.CountOnly, "count-only", false, "validate and count inserted records without keeping them (SELECT COUNT() sees them, nothing else does): for benchmarks of tens of millions of rows; not with --data")
	f.StringVar(&opts.CACertDir, "ca-cert-dir", "", "directory to write emulator-ca.pem to (default: a temporary directory)")
	f.BoolVar(&opts.LogRequests, "log-requests", false, "log one line per request (method, path, query, status) to standard error, to see what a client sends")
	return cmd
}

func emulatorConfig(opts *emulatorOptions) (emulator.Config, error) {
	cfg := emulator.Config{
		Addr:            opts.Addr,
		HTTPAddr:        opts.HTTPAddr,
		TLS:             !opts.NoTLS,
		SchemaFile:      opts.SchemaFile,
		DataFile:        opts.DataFile,
		SessionLifetime: opts.SessionLifetime,
		Seed:            opts.Seed,

		SOAPLoginDisabled: opts.NoSOAPLogin,
		CountOnly:         opts.CountOnly,
	}
	switch opts.Profile {
	case "", "instant":
	case "realistic":
		cfg.Bulk.Profile = bulk.DefaultRealistic()
		cfg.Limits = emulator.RealisticLimits()
	default:
		return cfg, usageError{fmt.Errorf("--profile: %q is not instant or realistic", opts.Profile)}
	}
	if opts.LockRate < 0 || opts.LockRate > 1 {
		return cfg, usageError{fmt.Errorf("--lock-contention: %v is not between 0 and 1", opts.LockRate)}
	}
	cfg.Bulk.LockContentionRate = opts.LockRate
	if opts.DailyAPIMax < 0 {
		return cfg, usageError{fmt.Errorf("--daily-api-requests: %d is negative", opts.DailyAPIMax)}
	}
	if opts.DailyAPIMax > 0 {
		cfg.Limits.DailyAPIRequests = opts.DailyAPIMax
	}
	if opts.LogRequests {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.AccessFile != "" {
		af, err := emulator.ReadAccessFile(opts.AccessFile)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--access: %w", err)}
		}
		cfg.Users, cfg.Apps = af.Users, af.Apps
	}
	return cfg, nil
}

// startEmulator builds and starts an emulated org from the flags; the
// caller closes it.
func startEmulator(opts *emulatorOptions) (*emulator.Server, error) {
	cfg, err := emulatorConfig(opts)
	if err != nil {
		return nil, err
	}
	srv, err := emulator.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		return nil, err
	}
	return srv, nil
}

func runEmulator(cmd *cobra.Command, ios *IOStreams, opts *emulatorOptions) error {
	srv, err := startEmulator(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	dir := opts.CACertDir
	if dir == "" && !opts.NoTLS {
		dir, err = os.MkdirTemp("", "sfbatch-emulator-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	info, err := srv.StartupInfo(dir)
	if err != nil {
		return err
	}
	if opts.JSON && ios.json != nil {
		if err := ios.json.printNow(info); err != nil {
			return err
		}
	} else if opts.JSON {
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		fmt.Fprintln(ios.Out, string(b))
	} else {
		// These are the emulator's own local credentials, printed by design.
		fmt.Fprintf(ios.Out, "sfbatch emulator is running (Ctrl-C to stop)\n\n")
		fmt.Fprintf(ios.Out, "  instance URL    %s\n", info.InstanceURL)
		fmt.Fprintf(ios.Out, "  login URL       %s\n", info.LoginURL)
		fmt.Fprintf(ios.Out, "  username        %s\n", info.Username)
		fmt.Fprintf(ios.Out, "  password        %s\n", info.Password)
		fmt.Fprintf(ios.Out, "  security token  %s\n", info.SecurityToken)
		fmt.Fprintf(ios.Out, "  access token    %s\n", info.AccessToken)
		fmt.Fprintf(ios.Out, "  client id       %s\n", info.ClientID)
		fmt.Fprintf(ios.Out, "  client secret   %s\n", info.ClientSecret)
		if info.CACertFile != "" {
			fmt.Fprintf(ios.Out, "  CA certificate  %s\n", info.CACertFile)
		}
		if info.SFDXAuthURL != "" {
			fmt.Fprintf(ios.Out, "  SFDX auth URL   %s\n", info.SFDXAuthURL)
		}
		vars := [][2]string{{envInstanceURL, info.InstanceURL}, {envAccessToken, info.AccessToken}}
		if info.CACertFile != "" {
			vars = append(vars, [2]string{envCACertFile, info.CACertFile})
		}
		fmt.Fprintf(ios.Out, "\nUse it with sfbatch:\n  %s\n", exportLine(vars...))
		if runtime.GOOS == "windows" {
			fmt.Fprintf(ios.Out, "or in PowerShell:\n  %s\n", powerShellLine(vars...))
		}
		if info.SFDXAuthURL != "" && !opts.NoTLS {
			fmt.Fprintf(ios.Out, "\nUse it with the Salesforce CLI (then sfbatch --target-org emulator):\n  echo %s > emulator.sfdx\n", shellWord(info.SFDXAuthURL))
			if info.CACertFile != "" {
				fmt.Fprintf(ios.Out, "  %s\n", exportLine([2]string{"NODE_EXTRA_CA_CERTS", info.CACertFile}))
			}
			fmt.Fprintf(ios.Out, "  sf org login sfdx-url --sfdx-url-file emulator.sfdx --alias emulator\n")
		}
	}
	<-cmd.Context().Done()
	return nil
}
