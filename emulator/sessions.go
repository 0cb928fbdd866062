package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// DefaultSessionLifetime is how long a session stays valid without use, the
// org default behind sessionSecondsValid=7200.
const DefaultSessionLifetime = 2 * time.Hour

// sessionStore holds live access tokens (SOAP session ids and OAuth access
// tokens are the same thing) and refresh tokens. With a data file it keeps
// them in the org's settings too, so that they outlive a restart as they
// outlive one of Salesforce's servers: each under the SHA-256 of its token,
// which is never written. A kept token comes back into memory the first
// time it is presented. Safe for concurrent use.
type sessionStore struct {
	clock           clock.Clock
	lifetime        time.Duration
	refreshLifetime time.Duration // 0: refresh tokens work until revoked
	orgID15         string
	keep            *org.Org // nil: sessions live in memory only

	mu       sync.Mutex
	sessions map[string]*wire.Session
	refresh  map[string]refreshGrant
	restored map[string]sessionRecord // kept by an earlier run, by setting key
}

// sessionRecord is a session or a refresh token as the data file keeps it.
type sessionRecord struct {
	Refresh  bool      `json:"refresh,omitempty"`
	UserID   string    `json:"userId"`
	Username string    `json:"username"`
	OrgID    string    `json:"orgId,omitempty"`
	ClientID string    `json:"clientId,omitempty"`
	Expires  time.Time `json:"expires,omitzero"`
}

// settingSession prefixes the org settings that hold sessions.
const settingSession = "emulator.session."

// sessionKey is the setting a token is kept under.
func sessionKey(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return settingSession + hex.EncodeToString(sum[:])
}

// keepLocked writes rec for tok through to the data file. A token that
// cannot be kept still works until the emulator stops. Caller holds s.mu.
func (s *sessionStore) keepLocked(tok string, rec sessionRecord) {
	if s.keep == nil {
		return
	}
	if b, err := json.Marshal(rec); err == nil {
		_ = s.keep.SetSetting(sessionKey(tok), string(b))
	}
}

// forgetLocked removes tok from the data file. Caller holds s.mu.
func (s *sessionStore) forgetLocked(key string) {
	delete(s.restored, key)
	if s.keep != nil {
		_ = s.keep.DeleteSetting(key)
	}
}

// load reads the sessions and refresh tokens an earlier run kept, dropping
// expired sessions.
func (s *sessionStore) load() {
	now := s.clock.Now()
	for k, v := range s.keep.Settings(settingSession) {
		var rec sessionRecord
		if json.Unmarshal([]byte(v), &rec) != nil || !rec.Refresh && !now.Before(rec.Expires) {
			_ = s.keep.DeleteSetting(k)
			continue
		}
		s.restored[k] = rec
	}
}

// flush writes every live session with its current expiry (use extends a
// session in memory only), for Close.
func (s *sessionStore) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, sess := range s.sessions {
		s.keepLocked(tok, sessionRecord{UserID: sess.UserID, Username: sess.Username, OrgID: sess.OrgID, Expires: sess.Expires})
	}
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	userID, username, clientID string
	expires                    time.Time // zero: never
}

// newSessionStore returns an empty store; with keep (an org with a data
// file) it keeps its tokens there and takes up those kept before.
func newSessionStore(c clock.Clock, lifetime time.Duration, orgID string, keep *org.Org) *sessionStore {
	if lifetime <= 0 {
		lifetime = DefaultSessionLifetime
	}
	s := &sessionStore{
		clock:    c,
		lifetime: lifetime,
		orgID15:  orgID[:min(15, len(orgID))],
		keep:     keep,
		sessions: map[string]*wire.Session{},
		refresh:  map[string]refreshGrant{},
		restored: map[string]sessionRecord{},
	}
	if keep != nil {
		s.load()
	}
	return s
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
	s.keepLocked(tok, sessionRecord{UserID: sess.UserID, Username: sess.Username, OrgID: orgID, Expires: sess.Expires})
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
	s.keepLocked(tok, sessionRecord{Refresh: true, UserID: u.id, Username: u.Username, ClientID: clientID})
	s.mu.Unlock()
	return tok
}

func (s *sessionStore) lookupRefresh(tok string) (refreshGrant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[tok]
	if !ok && tok != "" {
		key := sessionKey(tok)
		if rec, kept := s.restored[key]; kept && rec.Refresh {
			g, ok = refreshGrant{userID: rec.UserID, username: rec.Username, clientID: rec.ClientID}, true
			s.refresh[tok] = g
			delete(s.restored, key)
		}
	}
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
		key := sessionKey(tok)
		rec, kept := s.restored[key]
		if !kept || rec.Refresh {
			return nil
		}
		sess = &wire.Session{Token: tok, UserID: rec.UserID, Username: rec.Username, OrgID: rec.OrgID, Expires: rec.Expires}
		s.sessions[tok] = sess
		delete(s.restored, key)
	}
	if !now.Before(sess.Expires) {
		delete(s.sessions, tok)
		s.forgetLocked(sessionKey(tok))
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
	key := sessionKey(tok)
	_, a := s.sessions[tok]
	_, b := s.refresh[tok]
	_, c := s.restored[key]
	delete(s.sessions, tok)
	delete(s.refresh, tok)
	if a || b || c {
		s.forgetLocked(key)
	}
	return a || b || c
}

// expireAll ends every session (refresh tokens stay valid, so clients that
// can refresh recover, as they do when Salesforce expires sessions).
func (s *sessionStore) expireAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.sessions)
	for tok := range s.sessions {
		s.forgetLocked(sessionKey(tok))
	}
	clear(s.sessions)
	for key, rec := range s.restored {
		if !rec.Refresh {
			n++
			s.forgetLocked(key)
		}
	}
	return n
}

func (s *sessionStore) secondsValid() int { return int(s.lifetime / time.Second) }

// NewSession logs username in directly and returns its access token.
func (s *Server) NewSession(username string) (string, error) {
	u := s.userByName(username)
	if u == nil {
		return "", fmt.Errorf("emulator: no user %q", username)
	}
	return s.sessions.issue(u, s.orgID).Token, nil
}
