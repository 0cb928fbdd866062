package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// Target is one Salesforce the scenarios run against.
type Target struct {
	// Name is "emulator" or "org"; it is the first element of every subtest name.
	Name string
	// Client is logged in to the target and renews its session when it expires (except for
	// a real org reached with a bare access token). Safe for concurrent use.
	Client *salesforce.Client
	// Emulator is the emulated org, nil for a real org.
	Emulator *salesforcetest.Server
	// RunPrefix is unique to this run of the suite; scenario prefixes extend it.
	RunPrefix string
	// PollMin and PollMax bound the waits between status polls of bulk jobs.
	PollMin, PollMax time.Duration
	// WaitLimit bounds one WaitFor: the longest a bulk job may take to finish.
	WaitLimit time.Duration
}

// Targets returns the emulator, always, followed by a real org when the suite is built with
// the integration tag and SF_* credentials are set. The emulator is closed when t ends.
func Targets(t *testing.T) []Target {
	t.Helper()
	targets := []Target{emulatorTarget(t)}
	if org, ok := orgTarget(t); ok {
		targets = append(targets, org)
	}
	return targets
}

// emulatorRetry keeps retries of injected or transient failures fast on loopback.
func emulatorRetry() salesforce.RetryPolicy {
	return salesforce.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond}
}

// newEmulator starts an emulated org for t and logs in to it over HTTPS with SOAP login
// (username, password, security token), so the client can renew an expired session.
func newEmulator(t *testing.T) (*salesforcetest.Server, *salesforce.Client) {
	t.Helper()
	srv := salesforcetest.New(t, salesforcetest.WithSeed(1))
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("emulator URL %q is not HTTPS", srv.URL())
	}
	cr := srv.Credentials()
	c, err := salesforce.Login(t.Context(), salesforce.LoginConfig{
		LoginURL:      srv.LoginURL(),
		HTTPClient:    srv.Client(),
		Username:      cr.Username,
		Password:      cr.Password,
		SecurityToken: cr.SecurityToken,
	}, salesforce.WithRetry(emulatorRetry()))
	if err != nil {
		t.Fatalf("logging in to the emulator: %v", err)
	}
	return srv, c
}

func emulatorTarget(t *testing.T) Target {
	t.Helper()
	srv, c := newEmulator(t)
	return Target{
		Name:      "emulator",
		Client:    c,
		Emulator:  srv,
		RunPrefix: runPrefix(t),
		PollMin:   2 * time.Millisecond,
		PollMax:   50 * time.Millisecond,
		WaitLimit: time.Minute,
	}
}

// runPrefix returns "sfbc" and 8 random hex digits: a LastName or Name prefix no other run
// shares, so scenarios never touch records they did not create.
func runPrefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "sfbc" + hex.EncodeToString(b)
}

// Env is what a scenario gets: the target and a prefix unique to the scenario in this run.
type Env struct {
	Target
	// Prefix starts every LastName, Account Name and external id the scenario creates. It
	// holds only letters and digits, so it is safe inside SOQL string literals and LIKE.
	Prefix string
}

// Strict reports whether exact sizing assertions apply (page sizes, batch counts): the
// emulator's behaviour is specified exactly, a real org's only within documented bounds.
func (e *Env) Strict() bool { return e.Emulator != nil }

// Name returns the scenario's i-th record name: Prefix + zero-padded i.
func (e *Env) Name(i int) string { return fmt.Sprintf("%s%05d", e.Prefix, i) }

// Like is the SOQL condition value matching every name of the scenario.
func (e *Env) Like() string { return "'" + e.Prefix + "%'" }

// CleanupContacts deletes, when the test ends, every Contact whose LastName starts with the
// scenario's prefix. Call it before creating any.
func (e *Env) CleanupContacts(t *testing.T) {
	t.Helper()
	env := *e // the prefix as it is now
	t.Cleanup(func() { env.deleteWhere(t, "Contact", "LastName") })
}

// CleanupAccounts deletes, when the test ends, every Account whose Name starts with the
// scenario's prefix.
func (e *Env) CleanupAccounts(t *testing.T) {
	t.Helper()
	env := *e
	t.Cleanup(func() { env.deleteWhere(t, "Account", "Name") })
}

func (e *Env) deleteWhere(t *testing.T, object, field string) {
	// t.Context is done once cleanup runs: use a context of our own.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ids, err := e.IDs(ctx, fmt.Sprintf("SELECT Id FROM %s WHERE %s LIKE %s", object, field, e.Like()))
	if err != nil {
		t.Errorf("cleanup: listing %s records: %v", object, err)
		return
	}
	if len(ids) == 0 {
		return
	}
	res, err := e.Client.Composite.DeleteRecords(ctx, ids, salesforce.CollectionOptions{})
	if err != nil {
		t.Errorf("cleanup: deleting %d %s records: %v", len(ids), object, err)
		return
	}
	for i, r := range res {
		if !r.Success && !(len(r.Errors) > 0 && r.Errors[0].StatusCode == "ENTITY_IS_DELETED") {
			t.Errorf("cleanup: deleting %s %s: %+v", object, ids[i], r.Errors)
		}
	}
}

// IDs runs soql (which must select Id) and returns the ids in query order.
func (e *Env) IDs(ctx context.Context, soql string) ([]string, error) {
	var ids []string
	for rec, err := range e.Client.Query(ctx, soql) {
		if err != nil {
			return nil, err
		}
		ids = append(ids, rec.ID())
	}
	return ids, nil
}

// Contacts returns LastName by Id for the scenario's Contacts (live ones only).
func (e *Env) Contacts(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	for rec, err := range e.Client.Query(t.Context(), "SELECT Id, LastName FROM Contact WHERE LastName LIKE "+e.Like(), salesforce.QueryBatchSize(2000)) {
		if err != nil {
			t.Fatalf("querying the scenario's contacts: %v", err)
		}
		name, _ := rec.String("LastName")
		got[rec.ID()] = name
	}
	return got
}

// WaitFor polls check, waiting PollMin at first and up to PollMax between polls, until it
// reports done or fails; t fails when the test's context ends first. No sleeps: timers
// and ctx.Done.
func (e *Env) WaitFor(t *testing.T, what string, check func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e.WaitLimit)
	defer cancel()
	delay := e.PollMin
	for {
		done, err := check(ctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if done {
			return
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-timer.C:
		}
		delay = min(2*delay, e.PollMax)
	}
}
