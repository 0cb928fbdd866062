package emulator

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JWTClockSkew is how far past its exp claim a JWT bearer assertion is still
// accepted, as Salesforce allows.
const JWTClockSkew = 3 * time.Minute

// parseRSAPublicKey reads an RSA public key from PEM: an X.509 certificate
// (what a connected app stores), a PKIX public key or a PKCS#1 public key.
func parseRSAPublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	for rest := pemBytes; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, errors.New("no RSA public key or certificate in PEM")
		}
		switch blk.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse certificate: %w", err)
			}
			if k, ok := c.PublicKey.(*rsa.PublicKey); ok {
				return k, nil
			}
			return nil, errors.New("certificate key is not RSA")
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse public key: %w", err)
			}
			if rk, ok := k.(*rsa.PublicKey); ok {
				return rk, nil
			}
			return nil, errors.New("public key is not RSA")
		case "RSA PUBLIC KEY":
			return x509.ParsePKCS1PublicKey(blk.Bytes)
		}
	}
}

// jwtClaims are the claims of a JWT bearer assertion. exp may be a number or
// a string of digits (several clients send a string).
type jwtClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Prn string          `json:"prn"`
	Aud json.RawMessage `json:"aud"`
	Exp json.RawMessage `json:"exp"`
}

// verifyJWTBearer checks an assertion and returns the user and app it
// authenticates, or the OAuth error_description to answer with.
func (s *Server) verifyJWTBearer(assertion string) (*userRecord, *ConnectedApp, string) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, nil, "invalid assertion"
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nil, "invalid assertion"
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	var c jwtClaims
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &c) != nil {
		return nil, nil, "invalid assertion"
	}
	if hdr.Alg != "RS256" {
		return nil, nil, "invalid assertion"
	}
	app := s.appByID(c.Iss)
	if app == nil {
		return nil, nil, "client identifier invalid"
	}
	if app.publicKey == nil {
		return nil, nil, "invalid assertion"
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(app.publicKey, crypto.SHA256, digest[:], sig) != nil {
		return nil, nil, "invalid assertion"
	}
	if !s.audienceAllowed(c.Aud) {
		return nil, nil, "audience is invalid"
	}
	exp, ok := numericClaim(c.Exp)
	if !ok {
		return nil, nil, "invalid assertion"
	}
	if s.clock.Now().After(time.Unix(exp, 0).Add(JWTClockSkew)) {
		return nil, nil, "expired authorization code"
	}
	name := c.Sub
	if c.Prn != "" {
		name = c.Prn
	}
	u := s.userByName(name)
	if u == nil {
		return nil, nil, "user hasn't approved this consumer"
	}
	return u, app, ""
}

// audienceAllowed accepts the production and sandbox login hosts, the
// emulator's own URLs and any Config.JWTAudiences entry. aud may be a string
// or an array of strings.
func (s *Server) audienceAllowed(raw json.RawMessage) bool {
	var auds []string
	var one string
	if json.Unmarshal(raw, &one) == nil {
		auds = []string{one}
	} else if json.Unmarshal(raw, &auds) != nil {
		return false
	}
	allowed := map[string]bool{"https://login.salesforce.com": true, "https://test.salesforce.com": true}
	for _, a := range s.cfg.JWTAudiences {
		allowed[strings.TrimRight(a, "/")] = true
	}
	for _, u := range s.urls() {
		allowed[u] = true
	}
	for _, a := range auds {
		if allowed[strings.TrimRight(a, "/")] {
			return true
		}
	}
	return false
}

func numericClaim(raw json.RawMessage) (int64, bool) {
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return int64(f), true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	}
	return 0, false
}
