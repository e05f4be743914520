// Package client is a typed client of the counter API the example plugin
// manages: the shape every provider's client has, on sdk/httpapi.
package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/deskbot/deskbot/sdk/httpapi"
	"github.com/deskbot/deskbot/sdk/redact"
)

// Client calls one counter API with one API key.
type Client struct {
	http *httpapi.Client
}

// New returns a client of the API at base, authenticating with token.
func New(base, token string) (*Client, error) {
	h, err := httpapi.New(base)
	if err != nil {
		return nil, err
	}
	h.UserAgent = "deskbot-example"
	h.Redactor.AddSecret(token)
	h.Authorize = func(r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
	return &Client{http: h}, nil
}

// Redactor masks the client's secrets.
func (c *Client) Redactor() *redact.Redactor { return c.http.Redactor }

// Request is one call of the API.
type Request = httpapi.Request

// Counter is the API's one resource.
type Counter struct {
	Value int64 `json:"value"`
}

// Get reads the counter.
func Get() *Request { return &Request{Method: http.MethodGet, Path: "/counter", Effect: httpapi.Reads} }

// Add raises the counter by n.
func Add(n int64) *Request {
	return &Request{Method: http.MethodPost, Path: "/counter/add", Effect: httpapi.Changes, JSON: map[string]int64{"n": n}}
}

// Reset sets the counter back to zero.
func Reset() *Request {
	return &Request{Method: http.MethodPost, Path: "/counter/reset", Effect: httpapi.Changes}
}

// Describe says how a request is shown in a plan: method, URL and body,
// secrets masked.
func (c *Client) Describe(r *Request) (method, endpoint, body string) {
	return c.http.DescribeStep(r)
}

// Counter makes a request and returns the counter it answers with.
func (c *Client) Counter(ctx context.Context, r *Request) (Counter, error) {
	var out Counter
	if _, err := c.http.JSON(ctx, r, &out); err != nil {
		return Counter{}, fmt.Errorf("the counter API: %w", err)
	}
	return out, nil
}
