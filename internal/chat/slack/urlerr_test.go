package slack

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithoutURLKeepsTheCauseAndDropsTheAddress(t *testing.T) {
	const hook = "https://hooks.slack.com/commands/T1/42/CANARYsecret"
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"wrapped, as slack-go does": {fmt.Errorf("failed to post webhook: %w", &url.Error{Op: "Post", URL: hook, Err: errors.New("connection refused")}),
			"failed to post webhook: Post: connection refused"},
		"a malformed address": {fmt.Errorf("failed new request: %w", func() error { _, err := url.Parse(hook + "\x7f"); return err }()),
			"failed new request: parse: net/url: invalid control character in URL"},
		"written by hand around it": {fmt.Errorf("at %s: %w", hook, &url.Error{Op: "Post", URL: hook, Err: errors.New("timeout")}),
			"at [url]: Post: timeout"},
		"no address in it": {errors.New("slack server error: 500"), "slack server error: 500"},
	} {
		t.Run(name, func(t *testing.T) {
			got := withoutURL(tc.err)
			assert.Equal(t, tc.want, got.Error())
			assert.NotContains(t, fmt.Sprintf("%+v", got), "CANARY")
		})
	}
	assert.NoError(t, withoutURL(nil))
}
