package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/salesforce"
)

// tokenOptions are the flags of `sfbatch token`.
type tokenOptions struct {
	auth authOptions
}

// tokenResult is what `sfbatch token` prints in "result": a session a
// program can hand to worker processes (for example in the handshake line of
// `sfbatch pipe`). Refreshable says whether the flow that produced it can
// renew it (JWT bearer, client credentials, refresh token, SFDX auth URL); a
// username-password session cannot be renewed without the password.
type tokenResult struct {
	AccessToken string `json:"accessToken"`
	InstanceURL string `json:"instanceUrl"`
	Flow        string `json:"flow"`
	Refreshable bool   `json:"refreshable"`
}

func newTokenCmd(ios *IOStreams) *cobra.Command {
	opts := &tokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Log in once and print the session as JSON",
		Long: `Log in with the usual settings (flags, SF_* environment variables, profile)
and print one JSON object on standard output:

  {"status": 0, "result": {"accessToken": "...", "instanceUrl": "...",
   "flow": "soap", "refreshable": false}}

It is for programs that log in once and hand the session to many worker
processes, as the Spark package does before its tasks run "sfbatch pipe".
Read it through a pipe: the output holds a live session. The session is
checked with one authenticated call (the org's limits) before it is printed.
On failure the object is {"status": CODE, "name": "...", "message": "..."},
with the exit code (4 authentication failed, 5 org unreachable).`,
		Example: `  # A session for a username-password login (secrets from the environment)
  SF_USERNAME=ada@acme.com SF_PASSWORD=... SF_SECURITY_TOKEN=... sfbatch token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runToken(cmd.Context(), ios, opts)
		},
	}
	opts.auth.bind(cmd.Flags())
	return cmd
}

// tokenCheckTimeout bounds the call that checks a fresh session.
const tokenCheckTimeout = time.Minute

func runToken(ctx context.Context, ios *IOStreams, opts *tokenOptions) error {
	res, err := sessionToken(ctx, opts)
	enc := json.NewEncoder(ios.Out)
	if err == nil {
		return enc.Encode(map[string]any{"status": ExitOK, "result": res})
	}
	code, name := ExitError, "Error"
	var ee *exitError
	switch {
	case isUnreachable(err):
		code, name = ExitUnreachable, "UnreachableError"
	case errors.As(err, &ee) && ee.code == ExitAuth, isAuthError(err):
		code, name = ExitAuth, "AuthError"
	case isUsageError(err):
		code, name = ExitUsage, "UsageError"
	case errors.Is(err, context.Canceled):
		code, name = ExitCancelled, "Cancelled"
	}
	if jerr := enc.Encode(map[string]any{"status": code, "name": name, "message": err.Error()}); jerr != nil {
		return jerr
	}
	return withExit(code, err)
}

// sessionToken logs in, checks the session with one authenticated call and
// returns it.
func sessionToken(ctx context.Context, opts *tokenOptions) (*tokenResult, error) {
	p, err := opts.auth.resolve()
	if err != nil {
		return nil, err
	}
	src, err := p.loginConfig(nil).TokenSource()
	if err != nil {
		return nil, withExit(ExitAuth, errNoCredentials)
	}
	c, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, tokenCheckTimeout)
	defer cancel()
	if _, err := c.Limits(cctx); err != nil {
		return nil, fmt.Errorf("checking the session: %w", err)
	}
	tok, err := c.Token(ctx)
	if err != nil {
		return nil, withExit(ExitAuth, fmt.Errorf("login: %w", err))
	}
	flow, refreshable := flowOf(src)
	return &tokenResult{AccessToken: tok.AccessToken, InstanceURL: tok.InstanceURL, Flow: string(flow), Refreshable: refreshable}, nil
}

// flowOf names the login flow of src and says whether it can renew a session
// without the user.
func flowOf(src salesforce.TokenSource) (salesforce.Flow, bool) {
	switch src.(type) {
	case *salesforce.SOAPLogin:
		return salesforce.FlowSOAP, false
	case *salesforce.OAuthPassword:
		return salesforce.FlowPassword, false
	case salesforce.StaticToken, *salesforce.StaticToken:
		return salesforce.FlowAccessToken, false
	case *salesforce.OAuthRefreshToken:
		return salesforce.FlowRefreshToken, true
	case *salesforce.JWTBearer:
		return salesforce.FlowJWT, true
	case *salesforce.ClientCredentials:
		return salesforce.FlowClientCredentials, true
	}
	return salesforce.FlowSFDXAuthURL, true
}
