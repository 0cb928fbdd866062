package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes returned by Main. They are part of the command's contract.
const (
	ExitOK         = 0 // every row succeeded / command succeeded
	ExitError      = 1 // the run could not proceed (network, API, I/O error)
	ExitUsage      = 2 // bad flags, arguments or input files
	ExitRowsFailed = 3 // the run finished but some rows failed or were not processed
	ExitAuth       = 4 // authentication failed, nothing sent
	// ExitUnreachable: the org could not be reached (network, DNS, TLS), nothing sent.
	ExitUnreachable = 5
	// ExitWaitTimeout: --wait ran out; jobs already processing were left running and
	// --resume DIR continues the run.
	ExitWaitTimeout = 6
	ExitCancelled   = 130
)

// exitError carries a specific exit code out of a command's run function.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit wraps err so that Main exits with code.
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// IOStreams are the standard streams of one invocation; tests replace them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTTY reports whether Out is an interactive terminal (progress bars are
	// drawn only then).
	IsTTY bool

	json *jsonOutput // set by Run under --json
}

// Main runs the command line with os.Args and the process's streams and
// returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ios := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTTY: isTerminal(os.Stdout)}
	return Run(ctx, ios, os.Args[1:])
}

// Run executes one command line with the given streams and returns its exit
// code. It is what Main calls and what tests call.
func Run(ctx context.Context, ios *IOStreams, args []string) int {
	js := newJSONOutput(ios, args)
	if js != nil {
		// Everything a command prints as text goes to standard error; standard
		// output carries the one JSON object.
		ios = &IOStreams{In: ios.In, Out: ios.ErrOut, ErrOut: ios.ErrOut, json: js}
	}
	root := NewRootCmd(ios)
	root.SetArgs(fixTargetOrgArgs(args))
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	notices := ios.ErrOut
	if js != nil {
		notices = io.MultiWriter(ios.ErrOut, warningWriter{js})
	}
	err := root.ExecuteContext(withNotices(ctx, notices))
	code := exitCode(err)
	var ee *exitError
	if err != nil && (!errors.As(err, &ee) || ee.err != nil) {
		fmt.Fprintln(ios.ErrOut, "sfbatch:", err)
	}
	if js != nil {
		js.finish(code, err)
	}
	return code
}

// NewRootCmd builds the sfbatch command tree.
func NewRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:           "sfbatch",
		Short:         "Move large volumes of data into and out of Salesforce",
		SilenceUsage:  true,
		SilenceErrors: true,
		Long: `sfbatch loads and extracts any number of Salesforce records through the
Bulk API 2.0, Bulk API 1.0, sObject Collections and REST, with a result for
every input row, retries of lock errors, and a local emulator for offline use.`,
	}
	root.SetFlagErrorFunc(sfFlagHint)
	// Every command takes --json (commands with a --json of their own keep
	// theirs); Run reads it, see jsonOutput.
	root.PersistentFlags().Bool("json", false, "print one JSON object on standard output, in the sf CLI's shape")
	root.Version = versionString()
	root.SetVersionTemplate("sfbatch {{.Version}}\n")
	root.AddCommand(newVersionCmd(ios), newEmulatorCmd(ios), newLoginCmd(ios), newLimitsCmd(ios), newDescribeCmd(ios), newQueryCmd(ios))
	root.AddCommand(newLoadCmds(ios)...)
	root.AddCommand(newExportCmd(ios), newCompositeCmd(ios), newJobsCmd(ios), newDemoCmd(ios))
	root.AddCommand(newPlanCmd(ios), newRunCmd(ios), newRetryCmd(ios))
	root.AddCommand(newPipeCmd(ios))
	root.AddCommand(newTokenCmd(ios))
	root.AddCommand(newReportCmd(ios), newResultsCmd(ios))
	return root
}

// usageError marks errors that come from bad flags or arguments.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func isUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
