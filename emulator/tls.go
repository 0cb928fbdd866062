package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// certificate is the emulator's self-signed serving certificate. The same
// certificate is its own CA, so a client trusts the emulator by adding
// CACertPEM to its root pool.
type certificate struct {
	tls    tls.Certificate
	pemDER []byte // PEM-encoded certificate
	keyPEM []byte // PEM-encoded PKCS #8 private key
	pool   *x509.CertPool
}

// newCertificate generates a fresh ECDSA P-256 certificate valid for
// 127.0.0.1, ::1 and localhost (plus any extra host names), from now-1h to
// now+1y. The private key leaves memory only when the server keeps the
// certificate in its data file (see Server.serverCertificate).
func newCertificate(now time.Time, extraHosts ...string) (*certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("emulator: generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("emulator: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"sfbatch emulator"}, CommonName: "sfbatch emulator"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	for _, h := range extraHosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("emulator: create certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("emulator: encode TLS key: %w", err)
	}
	return parseCertificate(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
}

// parseCertificate rebuilds a certificate from its PEM forms.
func parseCertificate(certPEM, keyPEM []byte) (*certificate, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("emulator: TLS certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(pair.Leaf)
	return &certificate{tls: pair, pemDER: certPEM, keyPEM: keyPEM, pool: pool}, nil
}

// covers reports whether c is valid at now for a day more and names every
// host in hosts.
func (c *certificate) covers(now time.Time, hosts []string) bool {
	leaf := c.tls.Leaf
	if now.Before(leaf.NotBefore) || now.Add(24*time.Hour).After(leaf.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if h != "" && leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// Settings under which the org keeps the TLS certificate.
const (
	settingTLSCert = "emulator.tls_cert"
	settingTLSKey  = "emulator.tls_key"
)

// serverCertificate returns the certificate to serve: with a data file,
// the one kept there while it is valid and covers the configured hosts
// (so clients that trust it keep trusting a restarted emulator, as they
// keep trusting a real org), else a new one, which is then kept.
func (s *Server) serverCertificate(now time.Time) (*certificate, error) {
	if s.cfg.DataFile == "" {
		return newCertificate(now, s.cfg.TLSHosts...)
	}
	certPEM, ok1 := s.org.Setting(settingTLSCert)
	keyPEM, ok2 := s.org.Setting(settingTLSKey)
	if ok1 && ok2 {
		if c, err := parseCertificate([]byte(certPEM), []byte(keyPEM)); err == nil && c.covers(now, s.cfg.TLSHosts) {
			return c, nil
		}
	}
	c, err := newCertificate(now, s.cfg.TLSHosts...)
	if err != nil {
		return nil, err
	}
	// The data file now holds a private key: only its owner may read it.
	if err := os.Chmod(s.cfg.DataFile, 0o600); err != nil {
		return nil, fmt.Errorf("emulator: data file: %w", err)
	}
	if err := s.org.SetSetting(settingTLSCert, string(c.pemDER)); err != nil {
		return nil, err
	}
	if err := s.org.SetSetting(settingTLSKey, string(c.keyPEM)); err != nil {
		return nil, err
	}
	return c, nil
}
