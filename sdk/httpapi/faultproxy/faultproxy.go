// Package faultproxy puts a misbehaving network between a provider client
// and a test server: the faults a real desk meets behind load balancers and
// gateways, made on purpose and counted, so that tests can show a change
// reaches the provider once, credentials stay with it, and lists end.
//
// A Proxy forwards to the upstream handler it was made with and counts, by
// method and path, every request the upstream saw. Set chooses the fault
// for the requests that follow:
//
//   - BadGatewayAfterWork forwards the request, lets the upstream do the
//     work and answer, then tells the client 502;
//   - ResetAfterWork forwards it, lets the upstream answer, then resets the
//     client's connection;
//   - RedirectElsewhere answers 302 to another host (Elsewhere), which
//     records whatever reaches it;
//   - IgnorePaging forwards it without its paging parameters, so every page
//     asked for is the upstream's default page.
package faultproxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Fault is what the proxy does to a request.
type Fault int

const (
	// None forwards requests and answers unchanged.
	None Fault = iota
	// BadGatewayAfterWork forwards the request and then answers 502.
	BadGatewayAfterWork
	// ResetAfterWork forwards the request and then resets the connection.
	ResetAfterWork
	// RedirectElsewhere answers 302 to the same path and query on another
	// host, without forwarding.
	RedirectElsewhere
	// IgnorePaging forwards the request without its paging parameters.
	IgnorePaging
)

func (f Fault) String() string {
	return [...]string{"none", "502 after the work", "reset after the work", "redirect to another host", "ignore paging"}[f]
}

// DefaultPagingParams are the query parameters IgnorePaging drops.
var DefaultPagingParams = []string{"page", "per_page", "offset", "limit", "start", "page_size", "pageSize"}

// Caught is a request that reached the other host.
type Caught struct {
	Method string
	URL    string // path and query, as received
	Header http.Header
}

// Proxy is a faulty network in front of a test server.
type Proxy struct {
	// URL is the proxy's address (http://127.0.0.1:port): point the
	// client under test at it.
	URL string
	// PagingParams are what IgnorePaging drops; DefaultPagingParams if nil.
	PagingParams []string

	upstream  *httptest.Server
	elsewhere *httptest.Server
	proxy     *httptest.Server

	mu     sync.Mutex
	fault  Fault
	left   int // requests the fault still applies to; <0: all
	seen   map[string]int
	order  []string
	caught []Caught
}

var (
	errBadGateway = errors.New("faultproxy: 502 after the work")
	errReset      = errors.New("faultproxy: reset after the work")
)

// New starts upstream behind a proxy; both stop when the test ends.
func New(t testing.TB, upstream http.Handler) *Proxy {
	t.Helper()
	p := &Proxy{seen: map[string]int{}, left: -1}
	p.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		k := r.Method + " " + r.URL.Path
		p.seen[k]++
		p.order = append(p.order, k)
		p.mu.Unlock()
		upstream.ServeHTTP(w, r)
	}))
	t.Cleanup(p.upstream.Close)
	p.elsewhere = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.caught = append(p.caught, Caught{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone()})
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success":true,"data":[]}`)
	}))
	t.Cleanup(p.elsewhere.Close)

	target, _ := url.Parse(p.upstream.URL)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			if f, ok := pr.In.Context().Value(faultKey{}).(Fault); ok && f == IgnorePaging {
				q := pr.Out.URL.Query()
				for _, k := range p.pagingParams() {
					q.Del(k)
				}
				pr.Out.URL.RawQuery = q.Encode()
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			f, _ := resp.Request.Context().Value(faultKey{}).(Fault)
			switch f {
			case BadGatewayAfterWork:
				_, _ = io.Copy(io.Discard, resp.Body)
				return errBadGateway
			case ResetAfterWork:
				_, _ = io.Copy(io.Discard, resp.Body)
				return errReset
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, errReset) {
				reset(w)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		},
	}
	p.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := p.take()
		if f == RedirectElsewhere {
			http.Redirect(w, r, p.elsewhere.URL+r.URL.RequestURI(), http.StatusFound)
			return
		}
		rp.ServeHTTP(w, r.WithContext(contextWith(r, f)))
	}))
	t.Cleanup(p.proxy.Close)
	p.URL = p.proxy.URL
	return p
}

type faultKey struct{}

func contextWith(r *http.Request, f Fault) context.Context {
	return context.WithValue(r.Context(), faultKey{}, f)
}

// reset closes the client's connection with a TCP reset: no answer at all.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: the connection cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (p *Proxy) pagingParams() []string {
	if p.PagingParams != nil {
		return p.PagingParams
	}
	return DefaultPagingParams
}

// take returns the fault for the request arriving now.
func (p *Proxy) take() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	if p.left > 0 {
		p.left--
		if p.left == 0 {
			p.fault, p.left = None, -1
		}
	}
	return f
}

// Set applies f to every request from now on.
func (p *Proxy) Set(f Fault) { p.SetFor(f, -1) }

// SetFor applies f to the next n requests (all of them if n < 0), and then
// lets requests through unchanged.
func (p *Proxy) SetFor(f Fault, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n == 0 {
		f = None
	}
	p.fault, p.left = f, n
}

// Seen returns how many requests with method and path (as the upstream
// received it, without the query) reached the upstream.
func (p *Proxy) Seen(method, path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[method+" "+path]
}

// Counts returns, for each "METHOD /path", how many requests reached the
// upstream.
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.seen))
	for k, v := range p.seen {
		out[k] = v
	}
	return out
}

// Total is how many requests reached the upstream.
func (p *Proxy) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.order)
}

// Clear forgets the counts and what the other host caught.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen, p.order, p.caught = map[string]int{}, nil, nil
}

// Elsewhere returns the requests that reached the other host a redirect
// points to; a client that keeps its credentials sends none.
func (p *Proxy) Elsewhere() []Caught {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Caught(nil), p.caught...)
}

// ElsewhereURL is the other host's address.
func (p *Proxy) ElsewhereURL() string { return p.elsewhere.URL }

// Endpoints names a client's endpoint constructors: its exported methods
// whose names start with prefix ("EP"), sorted. A provider's fault test
// compares its table of endpoints with it, so no endpoint is added without
// saying whether it changes anything.
func Endpoints(client any, prefix string) []string {
	var out []string
	typ := reflect.TypeOf(client)
	for i := range typ.NumMethod() {
		if name := typ.Method(i).Name; strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
