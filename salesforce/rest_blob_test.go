package salesforce_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// countingReader produces n bytes of a pattern, counting what was read.
type countingReader struct {
	left int64
	read *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > r.left {
		n = r.left
	}
	for i := range p[:n] {
		p[i] = byte('a' + (r.read.Load()+int64(i))%26)
	}
	r.left -= n
	r.read.Add(n)
	return int(n), nil
}

func (r *countingReader) Close() error { return nil }

// observeTransport notes how much of the file was read when the request left.
type observeTransport struct {
	base   http.RoundTripper
	read   *atomic.Int64
	atSend atomic.Int64
}

func (t *observeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost {
		t.atSend.Store(t.read.Load())
	}
	return t.base.RoundTrip(req)
}

// TestCreateWithBlobStreams uploads a 12 MB ContentVersion body to the emulator: the request
// leaves before the file is read (it is streamed, not buffered), and the body arrives whole.
func TestCreateWithBlobStreams(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	const size = 12 << 20
	var read atomic.Int64
	hc := srv.Client()
	tr := &observeTransport{base: hc.Transport, read: &read}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(&http.Client{Transport: tr}), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.SObject("ContentVersion").CreateWithBlob(t.Context(), map[string]any{"Title": "big", "PathOnClient": "big.bin"}, "VersionData", "big.bin",
		func() (io.ReadCloser, error) { return &countingReader{left: size, read: &read}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.atSend.Load(); got >= size/2 {
		t.Errorf("%d of %d bytes were read before the request was sent: the body is buffered", got, size)
	}
	body, ok := srv.Org().VersionData(id)
	var want bytes.Buffer
	var r2 atomic.Int64
	io.Copy(&want, &countingReader{left: size, read: &r2})
	if !ok || sha256.Sum256(body) != sha256.Sum256(want.Bytes()) {
		t.Errorf("stored body: %d bytes, want %d", len(body), size)
	}
}
