package slack

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/engine"
)

// optionsDeadline bounds an options answer: Slack waits 3 s, and the
// network takes its share of that.
const optionsDeadline = 2 * time.Second

// serveOptions answers the block_suggestion requests Slack sends to the
// options URL while a user types in an external select. It is signed and
// replay-guarded like every other endpoint, and answered in the request
// (Slack shows the options it gets back), never queued.
func (a *Adapter) serveOptions(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, ok := a.verified(w, r, "options")
	if !ok {
		return
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cb, err := slackgo.InteractionCallbackParse(r2)
	if err != nil || cb.Type != slackgo.InteractionTypeBlockSuggestion {
		a.count("options", "bad")
		http.Error(w, "bad options request", http.StatusBadRequest)
		return
	}
	writeAck(w, a.AcceptOptions(r.Context(), cb))
	if a.metrics != nil {
		a.metrics.AckLatency.Observe(time.Since(start).Seconds())
	}
}

// AcceptOptions answers a verified block_suggestion: the commands the
// user may run for the builder's picker (grouped by provider), or the
// values of one parameter (the engine's, hence the policy's and the
// plugin's). It never fails: a suggestion that cannot be had leaves the
// list with what the user typed, so a value can always be entered.
func (a *Adapter) AcceptOptions(ctx context.Context, cb slackgo.InteractionCallback) any {
	ctx, cancel := context.WithTimeout(ctx, optionsDeadline)
	defer cancel()
	a.count("options", "accepted")
	st, ok := parseBuilderState(cb.View.PrivateMetadata)
	if !ok {
		return &slackgo.OptionsResponse{Options: []*slackgo.OptionBlockObject{}}
	}
	user := cb.User.ID
	if cb.ActionID == actionBuilderCommand {
		var groups []*slackgo.OptionGroupBlockObject
		for _, c := range a.choices(ctx, user, st, cb.Value) {
			if n := len(groups); n == 0 || groups[n-1].Label.Text != "/"+c.Provider {
				groups = append(groups, slackgo.NewOptionGroupBlockElement(plain("/"+c.Provider)))
			}
			g := groups[len(groups)-1]
			g.Options = append(g.Options, commandOption(c))
		}
		if groups == nil {
			groups = []*slackgo.OptionGroupBlockObject{}
		}
		return &slackgo.OptionGroupsResponse{OptionGroups: groups}
	}
	param, ok := strings.CutPrefix(cb.BlockID, blockParam)
	if !ok || st.Command == "" {
		return &slackgo.OptionsResponse{Options: []*slackgo.OptionBlockObject{}}
	}
	spec, err := a.engine.CommandSpec(ctx, user, st.Channel, st.Provider, st.Command)
	if err != nil {
		return &slackgo.OptionsResponse{Options: []*slackgo.OptionBlockObject{}}
	}
	args, target, _ := formValues(cb.View, spec)
	delete(args, param)
	query := strings.TrimSpace(cb.Value)
	sugg, err := a.engine.CompleteValue(ctx, engine.CompleteRequest{
		User: user, Channel: st.Channel, Provider: st.Provider, Command: spec.Name, Param: param, Prefix: query, Target: target, Args: args,
	})
	if err != nil {
		a.count("options", "failed")
		a.log.Warn("no suggestions for a form", "user", user, "command", st.Provider+" "+spec.Name, "param", param, "error", err)
	}
	opts := make([]*slackgo.OptionBlockObject, 0, len(sugg)+1)
	typed := query != ""
	for _, s := range sugg {
		if s.Value == "" || len(s.Value) > maxOptionValue {
			// Slack refuses an empty option and one over its length.
			continue
		}
		if s.Value == query {
			typed = false
		}
		var desc *slackgo.TextBlockObject
		if s.Description != "" {
			desc = plain(truncate(s.Description, maxOptionText))
		}
		opts = append(opts, slackgo.NewOptionBlockObject(s.Value, plain(truncate(s.Value, maxOptionText)), desc))
	}
	if prm, ok := spec.Param(param); typed && ok && len(prm.Enum) == 0 && len(query) <= maxOptionValue {
		// An external select takes only what it offers: what was typed
		// comes first, so a value no suggestion names can still be given.
		opts = append([]*slackgo.OptionBlockObject{slackgo.NewOptionBlockObject(query, plain(truncate(query, maxOptionText)), plain("as typed"))}, opts...)
	}
	if len(opts) > maxStaticOptions {
		opts = opts[:maxStaticOptions]
	}
	return &slackgo.OptionsResponse{Options: opts}
}
