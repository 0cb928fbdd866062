package cli

import (
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// proxyFromEnv returns the proxy choice of HTTPS_PROXY, HTTP_PROXY and
// NO_PROXY (or their lower-case forms) as getenv reads them, the rules curl
// and the sf CLI follow: NO_PROXY lists hosts, domains (.example.com or
// example.com), IPs and CIDR ranges reached directly, or * for all. As in Go,
// requests to localhost and loopback addresses never use a proxy.
func proxyFromEnv(getenv func(string) string) func(*http.Request) (*url.URL, error) {
	get := func(upper, lower string) string { return first(getenv(upper), getenv(lower)) }
	cfg := httpproxy.Config{
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
	}
	f := cfg.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return f(r.URL) }
}
