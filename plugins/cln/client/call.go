package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Call is one request to the API together with the way its answer is
// read. A plan shows its Endpoint (Describe) and a run makes it (Do); both
// come from the same value, so what a plan shows is the call a run makes.
type Call[T any] struct {
	Endpoint
	c    *Client
	read func(ctx context.Context, c *Client, e Endpoint) (T, error)
}

// Describe writes the call the way a plan shows it (see Client.Describe).
func (k Call[T]) Describe() (method, endpoint string) { return k.c.Describe(k.Endpoint) }

// Do makes the call and reads its answer.
func (k Call[T]) Do(ctx context.Context) (T, error) { return k.read(ctx, k.c, k.Endpoint) }

// decoded is a call whose answer (its envelope's data, or a bare v2
// answer) decodes into T.
func decoded[T any](c *Client, e Endpoint) Call[T] {
	return Call[T]{Endpoint: e, c: c, read: func(ctx context.Context, c *Client, e Endpoint) (T, error) {
		var v T
		return v, c.Do(ctx, e, &v)
	}}
}

// checked is a call that first checks what it is about to send with
// check: a request the API would misread is never sent.
func checked[T any](k Call[T], check func() error) Call[T] {
	read := k.read
	k.read = func(ctx context.Context, c *Client, e Endpoint) (T, error) {
		if err := check(); err != nil {
			var zero T
			return zero, err
		}
		return read(ctx, c, e)
	}
	return k
}

// Done is the answer of a call that says only whether it worked.
type Done struct{}

// confirmed is a call answering a boolean, where false means "not found
// or not the account's"; what names the thing in that error.
func confirmed(c *Client, e Endpoint, what string) Call[Done] {
	return Call[Done]{Endpoint: e, c: c, read: func(ctx context.Context, c *Client, e Endpoint) (Done, error) {
		var ok bool
		if err := c.Do(ctx, e, &ok); err != nil {
			return Done{}, err
		}
		if !ok {
			return Done{}, &notFound{msg: "CLN: " + what + " was not found, or is not this account's"}
		}
		return Done{}, nil
	}}
}

// Nagios is a KernelCare monitoring answer: OK is false (and Text says
// why) when any server is out of date, unsupported or inactive.
type Nagios struct {
	Text string
	OK   bool
}

// nagios is a call answering a Nagios plain-text line.
func nagios(c *Client, e Endpoint) Call[Nagios] {
	return Call[Nagios]{Endpoint: e, c: c, read: func(ctx context.Context, c *Client, e Endpoint) (Nagios, error) {
		body, err := c.raw(ctx, e)
		if err != nil {
			return Nagios{}, err
		}
		t := strings.TrimSpace(string(body))
		return Nagios{Text: t, OK: strings.HasPrefix(t, NagiosOK)}, nil
	}}
}

// Removed is the answer of a remove that may list what went with the
// removed thing: Listed is false when CLN answered only true.
type Removed[T any] struct {
	Items  []T
	Listed bool
}

// removal is a remove call whose answer CLN documents in two ways: the
// API references give a list (the servers removed with an Imunify key) or
// a boolean (a KernelCare key), while CloudLinux's WHMCS module reads
// data as a BOOLEAN for both. Both forms are accepted for both calls: true
// or a list means done; false or null means "not found, or not this
// account's". The call is a change and is sent once, so a false can never
// be the answer to a second try after a first that worked.
func removal[T any](c *Client, e Endpoint, what string) Call[Removed[T]] {
	return Call[Removed[T]]{Endpoint: e, c: c, read: func(ctx context.Context, c *Client, e Endpoint) (Removed[T], error) {
		body, err := c.raw(ctx, e)
		if err != nil {
			return Removed[T]{}, err
		}
		// A refusal first: it carries CLN's message, and data null.
		if err := decodeEnvelope(e.Path, body, nil, c.http.Redactor); err != nil {
			return Removed[T]{}, err
		}
		data := json.RawMessage("null")
		if !isNullData(body) {
			if err := decodeEnvelope(e.Path, body, &data, c.http.Redactor); err != nil {
				return Removed[T]{}, err
			}
		}
		switch t := bytes.TrimSpace(data); {
		case string(t) == "true":
			return Removed[T]{}, nil
		case string(t) == "false" || string(t) == "null":
			return Removed[T]{}, &notFound{msg: "CLN: " + what + " was not found, or is not this account's"}
		case len(t) > 0 && t[0] == '[':
			var items []T
			if err := json.Unmarshal(t, &items); err != nil {
				return Removed[T]{}, fmt.Errorf("CLN %s: the answer is not what the API documents: %v", e.Path, err)
			}
			return Removed[T]{Items: items, Listed: true}, nil
		}
		return Removed[T]{}, fmt.Errorf("CLN %s: the answer is neither a list nor true or false, as the API documents; it began %q", e.Path, c.http.Redactor.Excerpt(string(data), 40))
	}}
}
