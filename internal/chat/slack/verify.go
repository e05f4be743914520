// Package slack is the Slack adapter: signed slash commands, interactivity
// and events over HTTP or Socket Mode, Block Kit rendering, approvals with
// buttons and modals, progress in threads, App Home. slack-go does the
// signature verification, the Web API, Block Kit types and Socket Mode.
package slack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	slackgo "github.com/slack-go/slack"
)

// ErrTooLarge is returned for bodies over the limit.
var ErrTooLarge = errors.New("request body too large")

// Verify reads r's body (at most maxBody bytes) and checks its Slack
// signature and timestamp (within five minutes). It returns the body.
func Verify(r *http.Request, signingSecret string, maxBody int64) ([]byte, error) {
	sv, err := slackgo.NewSecretsVerifier(r.Header, signingSecret)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > maxBody {
		return nil, ErrTooLarge
	}
	if _, err := io.Copy(&sv, bytes.NewReader(body)); err != nil {
		return nil, err
	}
	if err := sv.Ensure(); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return body, nil
}
