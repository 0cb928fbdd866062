package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/sfbatch/sfbatch/salesforce"
)

// Orgs the Salesforce CLI (sf) has logged in: --target-org ALIAS|USERNAME
// or SF_TARGET_ORG. sfbatch asks `sf org display --json` for the org's
// access token and instance URL each time it needs a token (at start and
// when Salesforce says the session expired), so sf keeps the secrets and
// does the refreshing; sfbatch stores nothing of them.
const (
	envTargetOrg = "SF_TARGET_ORG"
	envSFPath    = "SFBATCH_SF"
	// envNodeCA is the CA file the sf CLI (Node.js) trusts besides the
	// system's; sfbatch trusts it too for a --target-org, so an org such as
	// the emulator that sf reaches is reached by sfbatch as well.
	envNodeCA = "NODE_EXTRA_CA_CERTS"
	// targetOrgDefault is --target-org given without a value: the sf CLI's
	// own default target org (sf config target-org).
	targetOrgDefault = "\x00sf-default"
	// sfDisplayTimeout bounds one `sf org display`.
	sfDisplayTimeout = 2 * time.Minute
)

// bindTargetOrg adds --target-org and --sf-path.
func (a *authOptions) bindTargetOrg(f *pflag.FlagSet) {
	f.StringVar(&a.TargetOrg, "target-org", "", "alias or username of an org the Salesforce CLI (sf) is logged in to; without a value, sf's default target org (env "+envTargetOrg+")")
	f.StringVar(&a.SFPath, "sf-path", "", "the Salesforce CLI executable used by --target-org (default: sf on PATH; env "+envSFPath+")")
}

// targetOrg returns the org asked for with --target-org or SF_TARGET_ORG
// ("" for none, targetOrgDefault for sf's default).
// Flags come first (the contracts' order: flags, --target-org or
// SF_TARGET_ORG, SF_* variables, profile), so SF_TARGET_ORG gives way to a
// flag that names an org.
func (a *authOptions) targetOrg() string {
	if a.TargetOrg != "" {
		return a.TargetOrg
	}
	if a.orgFlag() != "" {
		return ""
	}
	return a.env(envTargetOrg)
}

// orgFlag names a flag other than --target-org that names an org, or "".
func (a *authOptions) orgFlag() string {
	for _, f := range []struct{ name, v string }{
		{"--profile", a.Profile}, {"--instance-url", a.InstanceURL}, {"--login-url", a.LoginURL},
		{"--username", a.Username}, {"--client-id", a.ClientID}, {"--jwt-key-file", a.JWTKeyFile},
	} {
		if f.v != "" {
			return f.name
		}
	}
	return ""
}

// fixTargetOrgArgs rewrites a --target-org given without a value (last, or
// followed by another flag) as --target-org=<sf's default>, so that
// `--target-org ALIAS` keeps its usual meaning.
func fixTargetOrgArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "--target-org" && (i+1 == len(args) || strings.HasPrefix(args[i+1], "-")) {
			a = "--target-org=" + targetOrgDefault
		}
		out = append(out, a)
	}
	return out
}

// sfOrgDisplay is what `sf org display --json` prints.
type sfOrgDisplay struct {
	Status  int    `json:"status"`
	Name    string `json:"name"`
	Message string `json:"message"`
	Result  struct {
		ID              string `json:"id"`
		APIVersion      string `json:"apiVersion"`
		AccessToken     string `json:"accessToken"`
		InstanceURL     string `json:"instanceUrl"`
		Username        string `json:"username"`
		Alias           string `json:"alias"`
		ConnectedStatus string `json:"connectedStatus"`
	} `json:"result"`
}

// sfOrgSource is a salesforce.TokenSource that asks the Salesforce CLI for
// the org's current access token. Safe for concurrent use.
type sfOrgSource struct {
	sf    string // executable
	org   string // alias or username; "" for sf's default
	label string // how errors name the org
}

// newSFOrgSource finds the sf executable for org.
func newSFOrgSource(org, sfPath string) (*sfOrgSource, error) {
	label := fmt.Sprintf("--target-org %s", org)
	if org == targetOrgDefault {
		org, label = "", "the Salesforce CLI's default target org"
	}
	if sfPath == "" {
		sfPath = "sf"
	}
	exe, err := exec.LookPath(sfPath)
	if err != nil {
		return nil, withExit(ExitAuth, fmt.Errorf("%s: the Salesforce CLI (%s) is not installed or not on PATH: install it (npm install -g @salesforce/cli) or point --sf-path / %s at it", label, sfPath, envSFPath))
	}
	return &sfOrgSource{sf: exe, org: org, label: label}, nil
}

// Token implements salesforce.TokenSource.
func (s *sfOrgSource) Token(ctx context.Context) (*salesforce.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, sfDisplayTimeout)
	defer cancel()
	args := []string{"org", "display", "--json"}
	if s.org != "" {
		args = append(args, "--target-org", s.org)
	}
	cmd := exec.CommandContext(ctx, s.sf, args...)
	// No telemetry or update checks from a child process.
	cmd.Env = append(os.Environ(), "SF_DISABLE_TELEMETRY=true", "SF_AUTOUPDATE_DISABLE=true", "SF_HIDE_RELEASE_NOTES=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: sf org display: %w", s.label, ctx.Err())
	}
	var d sfOrgDisplay
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if runErr == nil {
			runErr = err
		}
		return nil, withExit(ExitAuth, fmt.Errorf("%s: sf org display gave no JSON (%w) %s", s.label, runErr, firstLine(msg)))
	}
	if d.Status != 0 || runErr != nil {
		return nil, withExit(ExitAuth, fmt.Errorf("%s: the Salesforce CLI knows no usable org (%s: %s); log in with sf org login ... --alias NAME, or list orgs with sf org list", s.label, d.Name, firstLine(d.Message)))
	}
	if d.Result.AccessToken == "" || d.Result.InstanceURL == "" {
		return nil, withExit(ExitAuth, fmt.Errorf("%s: sf org display gave no access token or instance URL (status %q)", s.label, d.Result.ConnectedStatus))
	}
	return &salesforce.Token{
		AccessToken: d.Result.AccessToken,
		InstanceURL: strings.TrimRight(d.Result.InstanceURL, "/"),
		IssuedAt:    time.Now(),
	}, nil
}

// firstLine is an sf message on one line, without its help pointer.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "See more help")
	return strings.Join(strings.Fields(s), " ")
}

// targetOrgClient logs in through the Salesforce CLI for --target-org.
func (a *authOptions) targetOrgClient(ctx context.Context, org string, extra ...salesforce.Option) (*salesforce.Client, error) {
	if name := a.orgFlag(); name != "" {
		return nil, usageError{fmt.Errorf("--target-org and %s both name an org: use one", name)}
	}
	src, err := newSFOrgSource(org, first(a.SFPath, a.env(envSFPath)))
	if err != nil {
		return nil, err
	}
	p := &Profile{CACertFile: first(a.CACertFile, a.env(envCACertFile), a.env(envNodeCA))}
	hc, err := p.httpClient()
	if err != nil {
		return nil, err
	}
	tok, err := src.Token(ctx)
	if err != nil {
		return nil, err
	}
	opts := []salesforce.Option{salesforce.WithHTTPClient(hc), salesforce.WithMaxConcurrentRequests(maxConcurrentRequests)}
	if v := first(a.APIVersion, a.env(envAPIVersion)); v != "" {
		opts = append(opts, salesforce.WithAPIVersion(v))
	}
	c, err := salesforce.NewWithTokenSource(ctx, &primedSource{first: tok, src: src}, append(opts, extra...)...)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, withExit(ExitAuth, fmt.Errorf("%s: %w", src.label, err))
	}
	return c, nil
}

// primedSource hands out a token already fetched, then asks src again
// (when the client refreshes an expired session).
type primedSource struct {
	mu    sync.Mutex
	first *salesforce.Token
	src   salesforce.TokenSource
}

func (p *primedSource) Token(ctx context.Context) (*salesforce.Token, error) {
	p.mu.Lock()
	t := p.first
	p.first = nil
	p.mu.Unlock()
	if t != nil {
		return t, nil
	}
	return p.src.Token(ctx)
}
