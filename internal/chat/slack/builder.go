package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/sdk"
)

// The command builder: a modal that picks a command the user may run,
// then asks for its parameters as Block Kit inputs, and runs it through
// the engine as fields (engine.Command), never as a typed line.
const (
	// callbackBuilder is the builder modal's callback id, and the global
	// shortcut's (the app manifests declare it).
	callbackBuilder = "command_builder"
	// actionBuilderCommand is the command picker (an external select fed
	// by the options URL).
	actionBuilderCommand = "builder_command"
	blockBuilderCommand  = "builder_command"
	blockBuilderTarget   = "builder_target"
	blockBuilderChannel  = "builder_channel"
	// blockBuilderTicket is the ticket reference's field, on every form.
	blockBuilderTicket = "builder_ticket"
	// blockParam prefixes each parameter's input block ("param_user").
	blockParam = "param_"
	// maxStaticOptions is Slack's limit of options in a static select; an
	// enum with more is offered through the options URL.
	maxStaticOptions = 100
	// maxPrivateMetadata is Slack's limit of a view's private metadata.
	maxPrivateMetadata = 3000
	// maxModalBlocks is Slack's limit of blocks in a modal.
	maxModalBlocks = 100
	// maxOptionValue and maxOptionText are Slack's limits for an option.
	maxOptionValue = 150
	maxOptionText  = 75
)

// builderState travels in the builder modal's private metadata.
type builderState struct {
	// Only limits the picker to one provider (its slash command was sent
	// with no text).
	Only string `json:"only,omitempty"`
	// Provider and Command are the chosen command, once chosen.
	Provider string `json:"provider,omitempty"`
	Command  string `json:"command,omitempty"`
	// Channel is where the command was asked for and its result goes; a
	// shortcut has none, and the modal asks.
	Channel     string `json:"channel,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
}

func parseBuilderState(meta string) (builderState, bool) {
	var st builderState
	return st, json.Unmarshal([]byte(meta), &st) == nil
}

// wantsBuilder reports whether a slash command asks for the builder:
// "/ops run", or a provider's command with no text. ok false leaves the
// command to run as typed.
func wantsBuilder(cmd slackgo.SlashCommand) (builderState, bool) {
	name := strings.ToLower(strings.TrimPrefix(cmd.Command, "/"))
	text := strings.ToLower(strings.TrimSpace(cmd.Text))
	st := builderState{Channel: cmd.ChannelID, ResponseURL: cmd.ResponseURL}
	switch {
	case name == "ops" && text == "run":
		return st, true
	case name != "ops" && name != "" && text == "":
		st.Only = name
		return st, true
	}
	return builderState{}, false
}

// acceptBuilder schedules opening the builder for a slash command.
func (a *Adapter) acceptBuilder(cmd slackgo.SlashCommand, st builderState) any {
	queued := a.enqueue("builder", func(ctx context.Context) {
		if !a.claim(ctx, "slack:cmd:"+cmd.TeamID+":"+cmd.TriggerID) {
			a.count("command", "duplicate")
			return
		}
		if st.Only != "" && len(a.choices(ctx, cmd.UserID, st, "")) == 0 {
			// Not a provider, or none of its commands is this user's:
			// the usual answer for the command as typed says which.
			a.runCommand(ctx, "", cmd, nil)
			return
		}
		a.openBuilder(ctx, cmd.UserID, cmd.TriggerID, st)
	})
	if !queued {
		a.count("command", "busy")
		return &slackgo.Msg{ResponseType: slackgo.ResponseTypeEphemeral, Text: ":hourglass: The bot is busy right now; nothing was run. Try again in a minute."}
	}
	a.count("command", "accepted")
	return nil
}

func (a *Adapter) openBuilder(ctx context.Context, user, trigger string, st builderState) {
	_, err := a.api.OpenViewContext(ctx, trigger, a.builderView(ctx, user, st))
	a.apiCall("views.open", err)
	if err != nil {
		a.log.Warn("could not open the command builder", "user", user, "error", err)
		if st.Channel != "" {
			a.ephemeralTo(ctx, st.Channel, user, st.ResponseURL, simple(":warning: The command builder could not be opened; try again, or type the command."))
		}
	}
}

// builderChose shows the chosen command's parameters in the open modal.
func (a *Adapter) builderChose(ctx context.Context, cb slackgo.InteractionCallback, value string) {
	st, ok := parseBuilderState(cb.View.PrivateMetadata)
	if !ok {
		return
	}
	st.Provider, st.Command, _ = strings.Cut(value, " ")
	// The hash makes Slack refuse the update if the view changed since
	// this choice was made (a quicker second choice wins).
	_, err := a.api.UpdateViewContext(ctx, a.builderView(ctx, cb.User.ID, st), "", cb.View.Hash, cb.View.ID)
	a.apiCall("views.update", err)
	if err != nil {
		a.log.Warn("could not show the chosen command's parameters", "user", cb.User.ID, "error", err)
	}
}

// builderView is the builder modal: the picker, and once a command is
// chosen, its parameters.
func (a *Adapter) builderView(ctx context.Context, user string, st builderState) slackgo.ModalViewRequest {
	picker := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeExternal, plain("Choose a command"), actionBuilderCommand)
	zero := 0
	picker.MinQueryLength = &zero
	view := slackgo.ModalViewRequest{Type: slackgo.VTModal, Title: plain("Run a command"), Close: plain("Cancel"), CallbackID: callbackBuilder}
	if st.Only != "" {
		view.Title = plain(truncate("Run /"+st.Only, 24))
	}
	var spec *sdk.CommandSpec
	if st.Command != "" {
		s, err := a.engine.CommandSpec(ctx, user, st.Channel, st.Provider, st.Command)
		if err == nil {
			spec = s
			picker.InitialOption = commandOption(engine.CommandChoice{Provider: st.Provider, Name: s.Name, Summary: s.Summary})
		} else {
			st.Provider, st.Command = "", ""
		}
	}
	blocks := []slackgo.Block{slackgo.NewActionBlock(blockBuilderCommand, picker)}
	if spec == nil {
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn("Only the commands you may run are listed. Type to search; its parameters follow.")))
	} else {
		blocks = append(blocks, a.paramBlocks(ctx, user, st, spec, a.engine.TicketRequired(ctx, user, st.Channel, st.Provider, spec.Name))...)
		view.Submit = plain("Run")
	}
	meta, _ := json.Marshal(st)
	view.PrivateMetadata = string(meta)
	view.Blocks = slackgo.Blocks{BlockSet: blocks}
	return view
}

func (a *Adapter) paramBlocks(ctx context.Context, user string, st builderState, spec *sdk.CommandSpec, needTicket bool) []slackgo.Block {
	intro := fmt.Sprintf("%s `/%s %s`", riskEmoji[spec.Risk], escape(st.Provider), escape(spec.Name))
	if spec.Summary != "" {
		intro += " " + escape(spec.Summary)
	}
	if spec.Risk > sdk.RiskReadOnly {
		intro += fmt.Sprintf(" _(risk: %s; the policy may ask for approval)_", spec.Risk)
	}
	blocks := []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(truncate(intro, maxSectionText)), nil, nil)}
	if st.Channel == "" {
		ch := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeConversations, plain("Where the result goes"), inputValue)
		ch.DefaultToCurrentConversation = true
		blocks = append(blocks, slackgo.NewInputBlock(blockBuilderChannel, plain("Channel"), nil, ch))
	}
	// Only the targets the policy lets user run the command on: a target
	// offered here is one whose live names the form then suggests.
	if targets, def := a.engine.TargetsFor(ctx, user, st.Channel, st.Provider, spec.Name); len(targets) > 1 || len(targets) == 1 && targets[0] != def {
		var opts []*slackgo.OptionBlockObject
		var initial *slackgo.OptionBlockObject
		for _, t := range targets {
			o := slackgo.NewOptionBlockObject(t, plain(truncate(t, maxOptionText)), nil)
			opts = append(opts, o)
			if t == def {
				initial = o
			}
		}
		if len(opts) > maxStaticOptions {
			opts = opts[:maxStaticOptions]
		}
		sel := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeStatic, plain("Target"), inputValue, opts...)
		sel.InitialOption = initial
		in := slackgo.NewInputBlock(blockBuilderTarget, plain("Target"), nil, sel)
		in.Optional = def != ""
		blocks = append(blocks, in)
	}
	var secret []string
	for _, prm := range spec.Params {
		if prm.Sensitive {
			secret = append(secret, prm.Name)
			continue
		}
		blocks = append(blocks, paramInput(prm))
	}
	if len(secret) > 0 {
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(":lock: "+escape(strings.Join(secret, ", "))+" will be asked for privately after Run, and never shown or stored.")))
	}
	ticket := ticketInput(needTicket)
	if len(blocks) > maxModalBlocks-2 {
		// A modal holds 100 blocks (the picker is one, the ticket
		// another). The fields left out cannot be given here: the form
		// says to type the command.
		blocks = blocks[:maxModalBlocks-3]
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(fmt.Sprintf(":warning: `/%s %s` has more parameters than a form can hold; type it to give the others.", escape(st.Provider), escape(spec.Name)))))
	}
	return append(blocks, ticket)
}

// ticketInput is the ticket reference's field, as ticket=REF on a typed
// line: required when the policy asks for one on the command.
func ticketInput(required bool) *slackgo.InputBlock {
	in := slackgo.NewPlainTextInputBlockElement(plain("like ABC-123"), inputValue)
	hint := plain("The ticket this is for, if any.")
	if required {
		hint = plain("The ticket this is for: the policy asks for one on this command.")
	}
	b := slackgo.NewInputBlock(blockBuilderTicket, plain("Ticket"), hint, in)
	b.Optional = !required
	return b
}

// formTicket is the ticket reference a builder modal holds ("" for none).
func formTicket(v slackgo.View) string {
	if v.State == nil {
		return ""
	}
	return strings.TrimSpace(v.State.Values[blockBuilderTicket][inputValue].Value)
}

// paramInput is one parameter's input block: a static select for an enum,
// a checkbox for a yes/no, an external select (fed by the plugin's
// suggestions) for a parameter the plugin completes, else a text field.
func paramInput(p sdk.Param) *slackgo.InputBlock {
	label := p.Name
	var hint *slackgo.TextBlockObject
	if p.Description != "" {
		hint = plain(truncate(p.Description, 2000))
	}
	var el slackgo.BlockElement
	optional := !p.Required
	switch {
	case p.Type == sdk.TypeBool:
		box := slackgo.NewCheckboxGroupsBlockElement(inputValue, slackgo.NewOptionBlockObject("true", plain("Yes"), nil))
		if v, err := p.Parse(p.Default); p.Default != "" && err == nil && v == true {
			box.InitialOptions = box.Options
		}
		el, optional = box, true
	case p.Type == sdk.TypeEnum && len(p.Enum) <= maxStaticOptions:
		var opts []*slackgo.OptionBlockObject
		var initial []*slackgo.OptionBlockObject
		for _, e := range p.Enum {
			var desc *slackgo.TextBlockObject
			if e.Description != "" {
				desc = plain(truncate(e.Description, maxOptionText))
			}
			o := slackgo.NewOptionBlockObject(e.Value, plain(truncate(e.Value, maxOptionText)), desc)
			opts = append(opts, o)
			if e.Value == p.Default {
				initial = append(initial, o)
			}
		}
		if p.Repeated {
			sel := slackgo.NewOptionsMultiSelectBlockElement(slackgo.MultiOptTypeStatic, plain("Choose"), inputValue, opts...)
			sel.InitialOptions = initial
			el = sel
		} else {
			sel := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeStatic, plain("Choose"), inputValue, opts...)
			if len(initial) > 0 {
				sel.InitialOption = initial[0]
			}
			el = sel
		}
	case p.Completes || p.Type == sdk.TypeEnum:
		zero := 0
		var initial *slackgo.OptionBlockObject
		if p.Default != "" {
			initial = slackgo.NewOptionBlockObject(p.Default, plain(truncate(p.Default, maxOptionText)), nil)
		}
		if p.Repeated {
			sel := slackgo.NewOptionsMultiSelectBlockElement(slackgo.MultiOptTypeExternal, plain("Type to search"), inputValue)
			sel.MinQueryLength = &zero
			if initial != nil {
				sel.InitialOptions = []*slackgo.OptionBlockObject{initial}
			}
			el = sel
		} else {
			sel := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeExternal, plain("Type to search"), inputValue)
			sel.MinQueryLength = &zero
			sel.InitialOption = initial
			el = sel
		}
	default:
		var placeholder *slackgo.TextBlockObject
		if h := typeHint(p); h != "" {
			// Slack refuses an empty text object.
			placeholder = plain(h)
		}
		in := slackgo.NewPlainTextInputBlockElement(placeholder, inputValue)
		in.InitialValue = p.Default
		in.Multiline = p.Type == sdk.TypeString && !p.Positional && !p.Resource && strings.Contains(strings.ToLower(p.Name+" "+p.Description), "reason")
		el = in
	}
	b := slackgo.NewInputBlock(blockParam+p.Name, plain(truncate(label, 2000)), hint, el)
	b.Optional = optional
	return b
}

// typeHint is a text field's placeholder: what a value looks like.
func typeHint(p sdk.Param) string {
	h := map[sdk.ParamType]string{
		sdk.TypeInt: "a whole number", sdk.TypeIP: "an IP address", sdk.TypeCIDR: "a network, like 203.0.113.0/24",
		sdk.TypeDomain: "a domain name", sdk.TypeEmail: "an e-mail address", sdk.TypeDuration: "a duration, like 90s or 2h",
		sdk.TypeSize: "a size, like 512M or 10G",
	}[p.Type]
	if p.Repeated {
		if h == "" {
			h = "values"
		}
		h += ", separated by commas"
	}
	return h
}

// formValues reads the values a builder modal holds, by parameter name
// (as typed: the engine checks them), with its target and channel.
func formValues(v slackgo.View, spec *sdk.CommandSpec) (args map[string][]string, target, channel string) {
	args = map[string][]string{}
	if v.State == nil {
		return args, "", ""
	}
	for block, actions := range v.State.Values {
		act, ok := actions[inputValue]
		if !ok {
			continue
		}
		switch block {
		case blockBuilderTarget:
			target = act.SelectedOption.Value
			continue
		case blockBuilderChannel:
			channel = act.SelectedConversation
			continue
		}
		name, ok := strings.CutPrefix(block, blockParam)
		if !ok {
			continue
		}
		prm, ok := spec.Param(name)
		if !ok || prm.Sensitive {
			continue
		}
		var vals []string
		switch string(act.Type) {
		case "checkboxes":
			// An unticked box says "false" only where that differs from
			// leaving the parameter out.
			if len(act.SelectedOptions) > 0 {
				vals = []string{"true"}
			} else if d, err := prm.Parse(prm.Default); prm.Default != "" && err == nil && d == true {
				vals = []string{"false"}
			}
		case slackgo.OptTypeStatic, slackgo.OptTypeExternal:
			if act.SelectedOption.Value != "" {
				vals = []string{act.SelectedOption.Value}
			}
		case slackgo.MultiOptTypeStatic, slackgo.MultiOptTypeExternal:
			for _, o := range act.SelectedOptions {
				vals = append(vals, o.Value)
			}
		default:
			if s := strings.TrimSpace(act.Value); s != "" {
				vals = []string{s}
			}
		}
		if len(vals) > 0 {
			args[prm.Name] = vals
		}
	}
	return args, target, channel
}

// submitBuilder takes a builder modal's submission: a mistake keeps the
// modal open with the error beside its field; a command with secrets
// turns the modal into the secret form; anything else runs.
func (a *Adapter) submitBuilder(cb slackgo.InteractionCallback) any {
	ctx := a.ctxOr()
	user := cb.User.ID
	st, ok := parseBuilderState(cb.View.PrivateMetadata)
	if !ok || st.Command == "" {
		return nil
	}
	spec, err := a.engine.CommandSpec(ctx, user, st.Channel, st.Provider, st.Command)
	if err != nil {
		return a.builderError(cb.View, "", "You may no longer run this command.")
	}
	args, target, channel := formValues(cb.View, spec)
	if st.Channel != "" {
		channel = st.Channel
	}
	if channel == "" {
		return viewErrors(blockBuilderChannel, "Choose where the result goes.")
	}
	c := engine.Command{Provider: st.Provider, Name: spec.Name, Target: target, Args: args, Ticket: formTicket(cb.View)}
	if param, err := a.engine.CheckCommand(ctx, user, channel, c); err != nil {
		return a.builderError(cb.View, param, a.engine.Redactor().String(err.Error()))
	}
	var secret []sdk.Param
	for _, prm := range spec.Params {
		if prm.Sensitive {
			secret = append(secret, prm)
		}
	}
	if len(secret) > 0 {
		view := secretsModal(c.Line(), secret, secretsState{Text: c.Line(), Channel: channel, ResponseURL: st.ResponseURL, Command: &c})
		if len(view.PrivateMetadata) > maxPrivateMetadata {
			// The secret form carries the command in its metadata, which
			// Slack limits.
			return a.builderError(cb.View, "", "These values are too long to carry to the secret form; shorten them, or type the command.")
		}
		return slackgo.NewUpdateViewSubmissionResponse(&view)
	}
	a.enqueueOrTell(cb, func(ctx context.Context) { a.runForm(ctx, user, channel, st.ResponseURL, c, nil) })
	return nil
}

// builderError keeps the modal open with msg under the field it is about,
// or under the first field when it is about the command as a whole.
func (a *Adapter) builderError(v slackgo.View, param, msg string) any {
	block := ""
	if param == "--target" {
		block = blockBuilderTarget
	} else if param == command.TicketWord {
		block = blockBuilderTicket
	} else if param != "" {
		block = blockParam + param
	}
	if !hasBlock(v, block) {
		block = ""
		var ids []string
		for _, b := range v.Blocks.BlockSet {
			if in, ok := b.(*slackgo.InputBlock); ok {
				ids = append(ids, in.BlockID)
			}
		}
		if len(ids) == 0 {
			// Nothing to put the error under: the modal says it instead.
			view := slackgo.ModalViewRequest{Type: slackgo.VTModal, Title: plain("Run a command"), Close: plain("Close"), CallbackID: callbackBuilder,
				Blocks: slackgo.Blocks{BlockSet: []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(":warning: "+escape(truncate(msg, 2900))), nil, nil)}}}
			return slackgo.NewUpdateViewSubmissionResponse(&view)
		}
		block = ids[0]
	}
	return viewErrors(block, truncate(strings.ReplaceAll(msg, "`", ""), 1900))
}

func hasBlock(v slackgo.View, id string) bool {
	if id == "" {
		return false
	}
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slackgo.InputBlock); ok && in.BlockID == id {
			return true
		}
	}
	return false
}

// runForm runs a command given as fields, as runCommand runs a typed one.
func (a *Adapter) runForm(ctx context.Context, user, channel, responseURL string, c engine.Command, secrets map[string]string) {
	conv := a.conversation(channel, user, responseURL, a.engine.Redactor().String(c.Line()))
	reply := a.engine.Handle(ctx, engine.Request{User: user, Channel: channel, Command: &c, Secrets: secrets}, conv.progress)
	switch {
	case reply.Status == engine.StatusPending:
		a.pending(ctx, conv, reply)
	case visible(reply, conv):
		conv.result(ctx, reply)
	default:
		conv.ephemeral(ctx, reply)
	}
}

// choices are the commands user may run that match query, for the
// picker, best matches first, all within the provider the builder was
// opened for, if any. They come grouped by provider (the picker's option
// groups), the provider of the best match first, and at most 100,
// Slack's limit, shared fairly among providers: an empty or short query
// shows some of every provider's, not the first 100 of the biggest.
func (a *Adapter) choices(ctx context.Context, user string, st builderState, query string) []engine.CommandChoice {
	all := a.engine.Commands(ctx, user, st.Channel)
	if strings.TrimSpace(query) != "" {
		// Ranked; hidden commands (a "call" family) only when searched.
		all = a.engine.CommandsMatching(ctx, user, st.Channel, query, 0)
	}
	var order []string
	byProvider := map[string][]engine.CommandChoice{}
	for _, c := range all {
		if st.Only != "" && c.Provider != st.Only {
			continue
		}
		if _, seen := byProvider[c.Provider]; !seen {
			order = append(order, c.Provider)
		}
		byProvider[c.Provider] = append(byProvider[c.Provider], c)
	}
	quota := fairShares(order, byProvider, maxStaticOptions)
	var out []engine.CommandChoice
	for _, p := range order {
		out = append(out, byProvider[p][:quota[p]]...)
	}
	return out
}

// fairShares divides budget options among providers: each gets all of
// its commands if that is no more than an even share, and what those
// leave is shared again among the others.
func fairShares(order []string, by map[string][]engine.CommandChoice, budget int) map[string]int {
	quota := make(map[string]int, len(order))
	left := order
	for len(left) > 0 && budget > 0 {
		share := budget / len(left)
		var over []string
		for _, p := range left {
			if n := len(by[p]); n <= share {
				quota[p] = n
				budget -= n
			} else {
				over = append(over, p)
			}
		}
		if len(over) == len(left) {
			// Each wants more than its share: an even share each, and
			// what does not divide evenly to the first (best) ones.
			extra := budget - share*len(over)
			for i, p := range over {
				quota[p] = share
				if i < extra {
					quota[p]++
				}
			}
			break
		}
		left = over
	}
	return quota
}

func commandOption(c engine.CommandChoice) *slackgo.OptionBlockObject {
	text := truncate(c.Name, maxOptionText)
	var desc *slackgo.TextBlockObject
	if c.Summary != "" {
		desc = plain(truncate(c.Summary, maxOptionText))
	}
	return slackgo.NewOptionBlockObject(c.Provider+" "+c.Name, plain(text), desc)
}
