package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// DefaultSessionLifetime is how long a session stays valid without use, the
// org default behind sessionSecondsValid=7200.
const DefaultSessionLifetime = 2 * time.Hour

// sessionStore holds live access tokens (SOAP session ids and OAuth access
// tokens are the same thing) and refresh tokens. Safe for concurrent use.
type sessionStore struct {
	clock           clock.Clock
	lifetime        time.Duration
	refreshLifetime time.Duration // 0: refresh tokens work until revoked
	orgID15         string

	mu       sync.Mutex
	sessions map[string]*wire.Session
	refresh  map[string]refreshGrant
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	userID, username, clientID string
	expires                    time.Time // zero: never
}

func newSessionStore(c clock.Clock, lifetime time.Duration, orgID string) *sessionStore {
	if lifetime <= 0 {
		lifetime = DefaultSessionLifetime
	}
	return &sessionStore{
		clock:    c,
		lifetime: lifetime,
		orgID15:  orgID[:min(15, len(orgID))],
		sessions: map[string]*wire.Session{},
		refresh:  map[string]refreshGrant{},
	}
}

// randomToken returns n random bytes in URL-safe base64 without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// issue creates a session for the user and returns it. Tokens look like
// Salesforce's: the 15-character org id, "!", then opaque characters.
func (s *sessionStore) issue(u *userRecord, orgID string) *wire.Session {
	tok := s.orgID15 + "!AQ" + randomToken(48)
	sess := &wire.Session{
		Token:    tok,
		UserID:   u.id,
		Username: u.Username,
		OrgID:    orgID,
		Expires:  s.clock.Now().Add(s.lifetime),
	}
	s.mu.Lock()
	s.sessions[tok] = sess
	s.mu.Unlock()
	cp := *sess
	return &cp
}

// issueRefresh returns a new refresh token for the user and app.
func (s *sessionStore) issueRefresh(u *userRecord, clientID string) string {
	tok := "5Aep" + randomToken(60)
	s.mu.Lock()
	g := refreshGrant{userID: u.id, username: u.Username, clientID: clientID}
	if s.refreshLifetime > 0 {
		g.expires = s.clock.Now().Add(s.refreshLifetime)
	}
	s.refresh[tok] = g
	s.mu.Unlock()
	return tok
}

func (s *sessionStore) lookupRefresh(tok string) (refreshGrant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[tok]
	if ok && !g.expires.IsZero() && !s.clock.Now().Before(g.expires) {
		delete(s.refresh, tok)
		return refreshGrant{}, false
	}
	return g, ok
}

// validate returns the session for tok if it exists and has not expired.
// Use extends the session: Salesforce times sessions out after inactivity.
func (s *sessionStore) validate(tok string) *wire.Session {
	if tok == "" {
		return nil
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[tok]
	if !ok {
		return nil
	}
	if !now.Before(sess.Expires) {
		delete(s.sessions, tok)
		return nil
	}
	sess.Expires = now.Add(s.lifetime)
	cp := *sess
	return &cp
}

// revoke ends one session or refresh token. It reports whether tok existed.
func (s *sessionStore) revoke(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a := s.sessions[tok]
	_, b := s.refresh[tok]
	delete(s.sessions, tok)
	delete(s.refresh, tok)
	return a || b
}

// expireAll ends every session (refresh tokens stay valid, so clients that
// can refresh recover, as they do when Salesforce expires sessions).
func (s *sessionStore) expireAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.sessions)
	clear(s.sessions)
	return n
}

func (s *sessionStore) secondsValid() int { return int(s.lifetime / time.Second) }
