package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/sfbatch/sfbatch/salesforce"
)

// OrgUnusable reports whether err means the org cannot be used at all: it could not be
// reached (see Unreachable: network, DNS, TLS; or a 5xx after the client's retries), or it
// refused the login or the session and the session could not be renewed (see AuthRefused).
// A load that meets such an error before sending anything stops with every row
// NotProcessed.
func OrgUnusable(err error) bool {
	return Unreachable(err) || AuthRefused(err)
}

// AuthRefused reports whether Salesforce refused the login or the session: a 401, an
// invalid session, login or OAuth client (INVALID_SESSION_ID, INVALID_LOGIN, invalid_grant,
// invalid_client, ...), a session the token source could not renew
// (salesforce.ErrSessionExpired) or SOAP login() refused (salesforce.ErrSOAPLoginRefused).
// It is the one place that decides; sfbatch's exit code 4 is this.
func AuthRefused(err error) bool {
	if errors.Is(err, salesforce.ErrSessionExpired) || errors.Is(err, salesforce.ErrSOAPLoginRefused) {
		return true
	}
	var ae *salesforce.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode {
	case "INVALID_SESSION_ID", "InvalidSessionId", "INVALID_LOGIN", "invalid_grant", "invalid_client_id", "invalid_client":
		return true
	}
	return ae.StatusCode == http.StatusUnauthorized
}

// NetworkFailed reports whether err is the network failing before Salesforce answered: no
// response at all (a *salesforce.TransportError), DNS, a refused or reset connection, a
// proxy, or TLS (an unknown authority, a wrong host name, an invalid certificate). It is the
// one place that decides; sfbatch's exit code 5 is this.
func NetworkFailed(err error) bool {
	var (
		te    *salesforce.TransportError
		dns   *net.DNSError
		op    *net.OpError
		unkCA x509.UnknownAuthorityError
		host  x509.HostnameError
		inv   x509.CertificateInvalidError
		verr  *tls.CertificateVerificationError
		rec   tls.RecordHeaderError
	)
	return errors.As(err, &te) || errors.As(err, &dns) || errors.As(err, &op) || errors.As(err, &unkCA) ||
		errors.As(err, &host) || errors.As(err, &inv) || errors.As(err, &verr) || errors.As(err, &rec)
}

// Unreachable reports whether err means the org could not be reached: the network failed
// (NetworkFailed) or a server error outlasted the client's retries (a refused login, which
// SOAP reports as a 500 fault, is not one: see AuthRefused).
func Unreachable(err error) bool {
	if NetworkFailed(err) {
		return true
	}
	var ae *salesforce.APIError
	return errors.As(err, &ae) && ae.StatusCode >= http.StatusInternalServerError && !AuthRefused(err)
}

// Unsent gives every row of src the outcome NotProcessed (StatusAborted, the message naming
// cause) without contacting Salesforce: for a load that cannot start because the org cannot
// be used (the login failed, the org is unreachable), so that every row is still accounted
// for and listed as safe to send again. Rows the reader rejects fail with StatusInvalidRow as
// they would in Load. It returns the Summary and an *Error wrapping cause (a header or
// structural *InputError instead, if the input stops first).
func Unsent(ctx context.Context, src Source, sink Sink, opts Options, cause error) (*Summary, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return &Summary{}, err
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	r := &run{cfg: cfg, sink: sink, open: make(map[string]*OpenJob), live: make(map[*chunk]struct{}),
		sum: Summary{ErrorCodes: make(map[string]int64), API: cfg.API}}
	header := src.Header()
	if err := r.checkHeader(src, header); err != nil {
		return &r.sum, err
	}
	r.header = header
	if sink != nil {
		if err := sink.Start(header); err != nil {
			return &r.sum, fmt.Errorf("load: sink: %w", err)
		}
	}
	in := &inputSource{src: src, r: r}
	msg := "not sent: the load could not start: " + cause.Error()
	for {
		if err := ctx.Err(); err != nil {
			return &r.sum, err
		}
		p, err := in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &r.sum, err
		}
		r.emit(&RowResult{Row: p.num, Outcome: NotProcessed, Values: p.vals, Batch: -1,
			Error: &RowError{StatusCode: StatusAborted, Message: msg}})
	}
	r.reportDone(cfg.API, "", "")
	if r.sinkErr != nil {
		return &r.sum, &Error{Err: fmt.Errorf("sink: %w", r.sinkErr)}
	}
	return &r.sum, &Error{Err: cause}
}
