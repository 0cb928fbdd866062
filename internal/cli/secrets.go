package cli

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sfbatch/sfbatch/salesforce"
)

// Saved profiles keep their secrets encrypted (AES-256-GCM) in the config
// file, under a key kept apart from it: in the OS keychain (macOS Keychain,
// Windows Credential Manager, the Secret Service on Linux) when one is
// reachable, otherwise in a 0600 key file outside the config folder, the way
// the sf CLI falls back when it has no keychain. The config file records which
// one holds the key ("key": "keychain" or "file:PATH").

// Environment variables that choose where the encryption key lives.
const (
	// envKeychain is "auto" (the default: the keychain when reachable, else
	// the key file), "keychain" (the keychain or an error) or "file".
	envKeychain = "SFBATCH_KEYCHAIN"
	// envKeyFile overrides the key file's path.
	envKeyFile = "SFBATCH_KEY_FILE"
	// envKeychainService overrides the keychain entry's service name (to keep
	// two sfbatch setups, or a test, apart from the user's).
	envKeychainService = "SFBATCH_KEYCHAIN_SERVICE"
)

// keychainService and keychainAccount name the keychain entry holding the key.
const (
	keychainService = "sfbatch"
	keychainAccount = "profile-encryption-key"
)

// keychainTimeout bounds one keychain call: a locked Secret Service may wait
// for a prompt nobody answers.
const keychainTimeout = 5 * time.Second

// keyFileMode is the key file's permission.
const keyFileMode fs.FileMode = 0o600

// secretsVersion prefixes a sealed Profile.Secrets value.
const secretsVersion = "v1:"

// keyRefKeychain is config.Key when the key is in the keychain (followed by
// ":" + the service name when it is not keychainService); a key file is
// "file:" + its path.
const keyRefKeychain = "keychain"

// profileSecrets are the fields of a Profile that are stored encrypted.
type profileSecrets struct {
	Password      string
	SecurityToken string
	ClientSecret  string
	RefreshToken  string
	AccessToken   string
	AuthURL       string
}

// sealedFields is what seal encrypts: the secrets as bytes, so that any value
// (even one that is not UTF-8) comes back exactly.
type sealedFields struct {
	Password      []byte `json:"password,omitempty"`
	SecurityToken []byte `json:"security_token,omitempty"`
	ClientSecret  []byte `json:"client_secret,omitempty"`
	RefreshToken  []byte `json:"refresh_token,omitempty"`
	AccessToken   []byte `json:"access_token,omitempty"`
	AuthURL       []byte `json:"sfdx_auth_url,omitempty"`
}

func (p *Profile) secrets() profileSecrets {
	return profileSecrets{p.Password, p.SecurityToken, p.ClientSecret, p.RefreshToken, p.AccessToken, p.AuthURL}
}

func (p *Profile) setSecrets(s profileSecrets) {
	p.Password, p.SecurityToken, p.ClientSecret, p.RefreshToken, p.AccessToken, p.AuthURL =
		s.Password, s.SecurityToken, s.ClientSecret, s.RefreshToken, s.AccessToken, s.AuthURL
}

// hasPlaintext reports whether p holds secrets in the clear, as config files
// written before encryption do.
func (p *Profile) hasPlaintext() bool { return p.secrets() != profileSecrets{} }

// keyStore holds the 32-byte key that encrypts saved profiles.
type keyStore interface {
	// key returns the key, creating and storing one first if create is set
	// and there is none.
	key(create bool) ([]byte, error)
	// ref is what the config file records to find the store again.
	ref() string
}

// keyStoreFor returns the store a config's key is in: the one it records, or
// for a config without one, the keychain when reachable, else the key file.
func keyStoreFor(cfg *config, getenv func(string) string) (keyStore, error) {
	service := first(getenv(envKeychainService), keychainService)
	switch {
	case cfg.Key == keyRefKeychain:
		return keychainStore{service: keychainService}, nil
	case strings.HasPrefix(cfg.Key, keyRefKeychain+":"):
		return keychainStore{service: strings.TrimPrefix(cfg.Key, keyRefKeychain+":")}, nil
	case strings.HasPrefix(cfg.Key, "file:"):
		return fileKeyStore{path: strings.TrimPrefix(cfg.Key, "file:")}, nil
	case cfg.Key != "":
		return nil, fmt.Errorf("config file: unknown key store %q", cfg.Key)
	}
	mode := strings.ToLower(getenv(envKeychain))
	switch mode {
	case "", "auto":
		if err := keychainReachable(getenv, service); err == nil {
			return keychainStore{service: service}, nil
		}
	case "keychain":
		if err := keychainReachable(getenv, service); err != nil {
			return nil, fmt.Errorf("%s=keychain: no OS keychain reachable: %w", envKeychain, err)
		}
		return keychainStore{service: service}, nil
	case "file":
	default:
		return nil, usageError{fmt.Errorf("%s: %q is not auto, keychain or file", envKeychain, mode)}
	}
	path, err := defaultKeyFilePath(getenv)
	if err != nil {
		return nil, err
	}
	return fileKeyStore{path: path}, nil
}

// keychainReachable reports whether the OS keychain answers. On Linux and the
// BSDs it needs a D-Bus session with a Secret Service; without a session bus
// the keychain is not tried at all (D-Bus would otherwise try to start one).
func keychainReachable(getenv func(string) string, service string) error {
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" && getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return errors.New("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)")
	}
	_, err := keychainCall(func() (string, error) { return keyring.Get(service, keychainAccount) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// keychainCall runs one keychain call with keychainTimeout.
func keychainCall(f func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(keychainTimeout):
		return "", fmt.Errorf("the keychain did not answer within %s", keychainTimeout)
	}
}

// keychainStore keeps the key in the OS keychain, as the password of the
// entry service/keychainAccount.
type keychainStore struct{ service string }

func (s keychainStore) ref() string {
	if s.service == keychainService {
		return keyRefKeychain
	}
	return keyRefKeychain + ":" + s.service
}

func (s keychainStore) key(create bool) ([]byte, error) {
	v, err := keychainCall(func() (string, error) { return keyring.Get(s.service, keychainAccount) })
	if err == nil {
		return decodeKey(v, "the keychain entry "+s.service+"/"+keychainAccount)
	}
	if !errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("reading the profile key from the keychain: %w", err)
	}
	if !create {
		return nil, fmt.Errorf("the profile key is missing from the keychain (%s/%s): log in again with sfbatch login", s.service, keychainAccount)
	}
	k, enc, err := newKey()
	if err != nil {
		return nil, err
	}
	if _, err := keychainCall(func() (string, error) { return "", keyring.Set(s.service, keychainAccount, enc) }); err != nil {
		return nil, fmt.Errorf("storing the profile key in the keychain: %w", err)
	}
	return k, nil
}

// fileKeyStore keeps the key in a 0600 file.
type fileKeyStore struct{ path string }

func (s fileKeyStore) ref() string { return "file:" + s.path }

func (s fileKeyStore) key(create bool) ([]byte, error) {
	b, err := os.ReadFile(s.path)
	if err == nil {
		if fi, serr := os.Stat(s.path); serr == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("key file %s is readable by others (mode %v): chmod 600 it", s.path, fi.Mode().Perm())
		}
		return decodeKey(strings.TrimSpace(string(b)), "key file "+s.path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the key file: %w", err)
	}
	if !create {
		return nil, fmt.Errorf("key file %s is missing: log in again with sfbatch login", s.path)
	}
	k, enc, err := newKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the key file's directory: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, keyFileMode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another sfbatch created it first
			return s.key(false)
		}
		return nil, fmt.Errorf("creating the key file: %w", err)
	}
	if _, err := f.WriteString(enc + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing the key file: %w", err)
	}
	return k, nil
}

// defaultKeyFilePath is $SFBATCH_KEY_FILE, else sfbatch/profile.key under
// $XDG_DATA_HOME (default ~/.local/share): apart from the config folder, so a
// copy of the config alone decrypts nothing.
func defaultKeyFilePath(getenv func(string) string) (string, error) {
	if p := getenv(envKeyFile); p != "" {
		return p, nil
	}
	dir := getenv("XDG_DATA_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("locating the key file: %w", err)
			}
			home = h
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "sfbatch", "profile.key"), nil
}

func newKey() ([]byte, string, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, "", fmt.Errorf("making a profile key: %w", err)
	}
	return k, base64.StdEncoding.EncodeToString(k), nil
}

func decodeKey(s, where string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%s does not hold a profile key", where)
	}
	return k, nil
}

// seal encrypts secrets for the profile called name (the name is bound to the
// ciphertext, so a sealed value cannot be moved to another profile).
func seal(key []byte, name string, s profileSecrets) (string, error) {
	plain, err := json.Marshal(sealedFields{[]byte(s.Password), []byte(s.SecurityToken), []byte(s.ClientSecret),
		[]byte(s.RefreshToken), []byte(s.AccessToken), []byte(s.AuthURL)})
	if err != nil {
		return "", err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := gcm.Seal(nonce, nonce, plain, []byte(name))
	return secretsVersion + base64.StdEncoding.EncodeToString(out), nil
}

// unseal decrypts what seal made.
func unseal(key []byte, name, sealed string) (profileSecrets, error) {
	var s profileSecrets
	b64, ok := strings.CutPrefix(sealed, secretsVersion)
	if !ok {
		return s, fmt.Errorf("profile %q: secrets in an unknown format", name)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return s, fmt.Errorf("profile %q: secrets are corrupt", name)
	}
	gcm, err := newGCM(key)
	if err != nil {
		return s, err
	}
	if len(raw) < gcm.NonceSize() {
		return s, fmt.Errorf("profile %q: secrets are corrupt", name)
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte(name))
	if err != nil {
		return s, fmt.Errorf("profile %q: secrets cannot be decrypted with this key (was the key file or keychain entry replaced?): log in again with sfbatch login", name)
	}
	var f sealedFields
	if err := json.Unmarshal(plain, &f); err != nil {
		return s, fmt.Errorf("profile %q: secrets are corrupt", name)
	}
	return profileSecrets{string(f.Password), string(f.SecurityToken), string(f.ClientSecret), string(f.RefreshToken), string(f.AccessToken), string(f.AuthURL)}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealedProfile returns the copy of p that is written to disk: the secrets
// encrypted, and the password and security token only when p.SavePassword.
func sealedProfile(key []byte, name string, p *Profile) (*Profile, error) {
	out := *p
	s := p.secrets()
	if !p.SavePassword {
		s.Password, s.SecurityToken = "", ""
	}
	out.setSecrets(profileSecrets{})
	out.Secrets = ""
	if s != (profileSecrets{}) {
		v, err := seal(key, name, s)
		if err != nil {
			return nil, fmt.Errorf("encrypting profile %q: %w", name, err)
		}
		out.Secrets = v
	}
	return &out, nil
}

// openProfile returns p with its secrets decrypted.
func openProfile(cfg *config, getenv func(string) string, name string, p *Profile) (*Profile, error) {
	out := *p
	if p.Secrets == "" {
		return &out, nil
	}
	ks, err := keyStoreFor(cfg, getenv)
	if err != nil {
		return nil, err
	}
	key, err := ks.key(false)
	if err != nil {
		return nil, err
	}
	s, err := unseal(key, name, p.Secrets)
	if err != nil {
		return nil, err
	}
	out.setSecrets(s)
	out.Secrets = ""
	return &out, nil
}

// saveSealed encrypts every profile that holds secrets in the clear (the
// others are already sealed) and writes the config. It is how sfbatch login
// writes, and how a plaintext config of an earlier sfbatch is migrated.
func (c *config) saveSealed(path string, getenv func(string) string) error {
	needKey := false
	for _, p := range c.Profiles {
		needKey = needKey || p.hasPlaintext()
	}
	if needKey {
		ks, err := keyStoreFor(c, getenv)
		if err != nil {
			return err
		}
		if err := checkKeyApart(ks, path); err != nil {
			return err
		}
		key, err := ks.key(true)
		if err != nil {
			return err
		}
		c.Key = ks.ref()
		for name, p := range c.Profiles {
			if !p.hasPlaintext() {
				continue
			}
			sp, err := sealedProfile(key, name, p)
			if err != nil {
				return err
			}
			c.Profiles[name] = sp
		}
	}
	return c.save(path)
}

// checkKeyApart refuses a key file in the config file's own folder: a copy of
// that folder would carry the key with the data it protects.
func checkKeyApart(ks keyStore, configPath string) error {
	fs, ok := ks.(fileKeyStore)
	if !ok {
		return nil
	}
	kd, _ := filepath.Abs(filepath.Dir(fs.path))
	cd, _ := filepath.Abs(filepath.Dir(configPath))
	if kd == cd {
		return usageError{fmt.Errorf("the key file %s is in the config file's folder: set %s to a path outside %s", fs.path, envKeyFile, cd)}
	}
	return nil
}

// migratePlaintext rewrites a config file of an earlier sfbatch, whose
// profiles kept secrets in the clear, with them encrypted. A password that was
// saved is kept (encrypted), since the profile logs in with it; the notice
// says how to drop it. It returns the notices to show.
func migratePlaintext(cfg *config, path string, getenv func(string) string) ([]string, error) {
	var names []string
	for name, p := range cfg.Profiles {
		if p.hasPlaintext() {
			names = append(names, name)
			if p.Password != "" {
				p.SavePassword = true
			}
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	slices.Sort(names)
	if err := cfg.saveSealed(path, getenv); err != nil {
		return nil, fmt.Errorf("encrypting the secrets of the profiles in %s: %w", path, err)
	}
	var notes []string
	for _, name := range names {
		note := fmt.Sprintf("profile %q: its secrets were stored in plain text in %s and are now encrypted", name, path)
		if cfg.Profiles[name].SavePassword {
			note += fmt.Sprintf("; its password is kept, encrypted (run sfbatch login %s without --save-password to keep only a token)", name)
		}
		notes = append(notes, note)
	}
	return notes, nil
}

// migrate encrypts a config file's plaintext secrets (see migratePlaintext)
// and tells the user.
func (a *authOptions) migrate(cfg *config, path string) error {
	notes, err := migratePlaintext(cfg, path, a.env)
	if err != nil {
		return err
	}
	w := a.notices
	if w == nil {
		w = os.Stderr
	}
	for _, n := range notes {
		fmt.Fprintln(w, "sfbatch:", n)
	}
	return nil
}

// tokenSource is the login flow of lc, except that a session a saved profile
// kept is used first; when Salesforce refuses it, the profile's other
// credentials (refresh token, JWT key, client credentials, a saved password)
// renew it, and a profile with none fails with salesforce.ErrSessionExpired.
func (p *Profile) tokenSource(lc salesforce.LoginConfig) (salesforce.TokenSource, error) {
	if !p.storedToken {
		return lc.TokenSource()
	}
	first := salesforce.StaticToken{AccessToken: p.AccessToken, InstanceURL: p.InstanceURL}
	lc.AccessToken = ""
	next, err := lc.TokenSource()
	if err != nil {
		next = nil // nothing renews the session
	}
	ss := &storedSession{first: first, next: next}
	if p.saved != nil {
		ss.renewed = p.saved.saveSession
	}
	return ss, nil
}

// savedAt names a saved profile: its config file and name.
type savedAt struct {
	path, name string
	getenv     func(string) string
}

// saveSession writes a renewed session back to the saved profile (sealed like
// the rest), so the next command starts with a live session instead of
// renewing again. Only the session and refresh token change: secrets that
// came from the environment are not added to the profile.
func (s *savedAt) saveSession(tok *salesforce.Token) error {
	cfg, err := loadConfig(s.path)
	if err != nil {
		return err
	}
	sp, ok := cfg.Profiles[s.name]
	if !ok {
		return nil // removed meanwhile
	}
	p, err := openProfile(cfg, s.getenv, s.name, sp)
	if err != nil {
		return err
	}
	p.AccessToken = tok.AccessToken
	if tok.RefreshToken != "" {
		p.RefreshToken = tok.RefreshToken
	}
	if tok.InstanceURL != "" {
		p.InstanceURL = tok.InstanceURL
	}
	cfg.Profiles[s.name] = p
	return cfg.saveSealed(s.path, s.getenv)
}

// storedSession is a TokenSource that returns a saved session once, then
// logs in through next (or returns the saved session again, which the client
// reports as salesforce.ErrSessionExpired).
type storedSession struct {
	first salesforce.StaticToken
	next  salesforce.TokenSource
	used  atomic.Bool
	// renewed, if set, keeps a fresh session; a failure to keep it does not
	// fail the command (the next one renews again).
	renewed func(*salesforce.Token) error
}

// Token returns the saved session first, then fresh ones.
func (s *storedSession) Token(ctx context.Context) (*salesforce.Token, error) {
	if !s.used.Swap(true) || s.next == nil {
		return s.first.Token(ctx)
	}
	tok, err := s.next.Token(ctx)
	if err == nil && s.renewed != nil {
		_ = s.renewed(tok)
	}
	return tok, err
}

// noticesKey carries the writer for notices about the config file in a
// command's context.
type noticesKey struct{}

func withNotices(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, noticesKey{}, w)
}

func noticesFrom(ctx context.Context) io.Writer {
	if w, ok := ctx.Value(noticesKey{}).(io.Writer); ok {
		return w
	}
	return nil
}
