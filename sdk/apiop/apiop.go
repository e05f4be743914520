// Package apiop is the layer most provider commands are written in: a
// command's work is an ordered list of calls to the provider's API.
//
// A command ([Op]) declares its parameters and a function that turns
// arguments into [Work]: a summary, the risk, and the [Step]s, each able
// to describe itself as a plan step (method, endpoint and body) and to
// perform itself. Plan shows the work; Run builds the same work again and
// performs it, refusing first if it differs from an approved plan's
// digest. The layer reports progress across steps, follows long work at
// the provider to its end ([Run.Follow]) or until a little before the
// call's deadline, says what is still running, names the steps that
// succeeded before one failed, and masks secrets in everything it shows.
// The provider keeps only its API: how a step is described and done, and
// how its results are shown.
package apiop

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

// API is what a provider's commands have in common. C is the client a
// command's work is built with (what the configure function made for the
// target), R what one step's call returns.
type API[C, R any] struct {
	// Name is the provider as users know it ("IONOS"), for messages such
	// as "Still running at IONOS".
	Name string
	// Client returns the client of a call's target; sdk.EnvOf does it
	// when the environment is the client.
	Client func(*sdk.Call) (C, error)
	// Redactor returns the client's redactor (its provider's sensitive
	// keys); the call's own (its target's secrets and sensitive
	// arguments) is added to it. Nil uses the call's alone.
	Redactor func(C) *redact.Redactor
	// Show renders the steps' results of an Op that has no Show.
	Show func(c C, a sdk.Args, results []R, out *sdk.Result) error
}

// Op declares one command.
type Op[C, R any] struct {
	Name, Summary, Help string
	Aliases, Examples   []string
	// Risk is read-only unless set.
	Risk            sdk.Risk
	Params          []sdk.Param
	Hidden          bool
	ExtraArguments  bool
	SensitiveOutput bool
	Complete        map[string]sdk.CompleteFunc
	// Work says what the command will do with these arguments. It may
	// read the provider (to resolve a name, to check a state), never
	// change it: Plan calls it to show the work, Run to do it.
	Work func(ctx context.Context, c C, a sdk.Args) (*Work[R], error)
	// Explain, if set, may turn a step's error into a more helpful one
	// (the names the user probably meant).
	Explain func(ctx context.Context, c C, a sdk.Args, err error) error
	// Show renders the results, one per step, into out (API.Show if nil).
	Show func(c C, a sdk.Args, results []R, out *sdk.Result) error
}

// Work is what a command will do.
type Work[R any] struct {
	Summary string
	// Risk may raise, never lower, the catalog's risk for these arguments.
	Risk sdk.Risk
	// Notes are shown with the plan: what an approver should know.
	Notes []string
	Steps []Step[R]
	// Facts are what the work was built from that its steps do not show
	// (the record at line 6 is "MX 10 mx.example."). They are part of
	// the plan's digest: if they change between the approval and the
	// run, the run is refused.
	Facts []string
	// Resource is the canonical name of what the work acts on (a machine's
	// label when the request named it by id): approvers of a critical
	// command type it to confirm. Empty means the resource parameter's
	// value as given.
	Resource string
	// CheckWith is the command that shows how work still running at the
	// provider goes on ("/ionos server status web01").
	CheckWith string
}

// Step is one call to the provider.
type Step[R any] struct {
	// What says in words what the call does.
	What string
	// Method, Endpoint and Body describe the call as the plan shows it;
	// the layer masks secrets in them.
	Method, Endpoint, Body string
	// Follows says the step follows the work it starts until it is done
	// (the plan says so).
	Follows bool
	// Do makes the call. It may report progress and follow long work
	// through run.
	Do func(ctx context.Context, run *Run) (R, error)
}

// Register declares op as a command of p.
func Register[C, R any](p *sdk.Plugin, api *API[C, R], op Op[C, R]) {
	b := p.Command(op.Name, op.Summary).Help(op.Help).Params(op.Params...).Examples(op.Examples...)
	if op.Risk != sdk.RiskUnspecified {
		b.Risk(op.Risk) // otherwise read-only, as for any command
	}
	if len(op.Aliases) > 0 {
		b.Aliases(op.Aliases...)
	}
	if op.Hidden {
		b.Hidden()
	}
	if op.ExtraArguments {
		b.ExtraArguments()
	}
	if op.SensitiveOutput {
		b.SensitiveOutput()
	}
	for param, fn := range op.Complete {
		b.Complete(param, fn)
	}
	b.Plan(func(ctx context.Context, call *sdk.Call) (*sdk.Plan, error) {
		c, red, err := api.prepare(call)
		if err != nil {
			return nil, err
		}
		w, err := op.Work(ctx, c, call.Args)
		if err != nil {
			return nil, sdk.ScrubError(red, err)
		}
		return plan(w, red), nil
	})
	b.RunChecksDigest()
	b.Run(func(ctx context.Context, call *sdk.Call) (*sdk.Result, error) {
		c, red, err := api.prepare(call)
		if err != nil {
			return nil, err
		}
		w, err := op.Work(ctx, c, call.Args)
		if err != nil {
			return nil, sdk.ScrubError(red, err)
		}
		if call.PlanDigest != "" && plan(w, red).Digest != call.PlanDigest {
			return &sdk.Result{Diagnostics: sdk.WorkChanged(p.Name() + " " + op.Name)}, nil
		}
		run := &Run{Call: call, api: api.Name}
		var results []R
		for i, s := range w.Steps {
			if len(w.Steps) > 1 {
				call.Progress(100*i/len(w.Steps), "%s", s.What)
			}
			r, err := s.Do(ctx, run)
			if err != nil && op.Explain != nil && ctx.Err() == nil {
				err = op.Explain(ctx, c, call.Args, err)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if i > 0 {
					err = fmt.Errorf("%w (after %d of %d steps had succeeded: %s)", err, i, len(w.Steps), whats(w.Steps[:i]))
				}
				return nil, sdk.ScrubError(red, err)
			}
			results = append(results, r)
		}
		out := sdk.NewResult()
		if run.still != nil {
			msg := "Still running at " + api.Name
			if run.still.State != "" || run.still.Message != "" {
				msg += " (" + stateText(*run.still) + ")"
			}
			msg += "."
			if w.CheckWith != "" {
				msg += " Check with " + w.CheckWith + "."
			}
			out.Warn("%s", msg)
		}
		show := op.Show
		if show == nil {
			show = api.Show
		}
		if show != nil {
			if err := show(c, call.Args, results, out); err != nil {
				return nil, sdk.ScrubError(red, err)
			}
		}
		return out.Scrub(red), nil
	})
}

// prepare returns a call's client and the redactor that masks what the
// command shows.
func (api *API[C, R]) prepare(call *sdk.Call) (C, *redact.Redactor, error) {
	c, err := api.Client(call)
	if err != nil {
		return c, nil, err
	}
	red := call.Redactor()
	if api.Redactor != nil {
		red = api.Redactor(c).Union(red)
	}
	return c, red, nil
}

// plan turns work into the plan shown for it, digest included.
func plan[R any](w *Work[R], red *redact.Redactor) *sdk.Plan {
	p := &sdk.Plan{Summary: w.Summary, Risk: w.Risk}
	if len(w.Notes) > 0 {
		p.Summary += "\n" + strings.Join(w.Notes, "\n")
	}
	for _, s := range w.Steps {
		desc := s.What
		if s.Follows {
			desc += "; then followed until done"
		}
		p.Steps = append(p.Steps, sdk.PlanStep{Description: desc, Method: s.Method, Endpoint: s.Endpoint, Body: s.Body})
	}
	p.Facts = append([]string(nil), w.Facts...)
	p.Resource = w.Resource
	p.Scrub(red)
	p.Digest = sdk.PlanDigest(p.Risk, p.Steps, w.Facts)
	return p
}

func whats[R any](steps []Step[R]) string {
	var s []string
	for _, st := range steps {
		s = append(s, st.What)
	}
	return strings.Join(s, ", ")
}

// Run is what a step's Do gets: the call, for progress and its log, and
// the one follow loop every provider's long work uses.
type Run struct {
	*sdk.Call
	api   string
	still *sdk.Progress
}

// Follow polls check, every interval, until it says the work is done,
// reporting each state it returns as progress (once per change). It stops
// a little before the call's deadline (a tenth of the time left, at most
// three seconds) so that the answer can still reach the user, and then
// returns still = true: the work goes on at the provider, and the result
// says so. An error from check ends it at once.
func (r *Run) Follow(ctx context.Context, every time.Duration, check func(ctx context.Context) (state sdk.Progress, done bool, err error)) (still bool, err error) {
	wctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		margin := min(3*time.Second, time.Until(dl)/10)
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	var last *sdk.Progress
	for {
		st, done, err := check(wctx)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if wctx.Err() != nil {
				r.stillRunning(last)
				return true, nil
			}
			return false, err
		}
		if last == nil || st != *last {
			r.ProgressState(st.State, st.Percent, st.Message)
			s := st
			last = &s
		}
		if done {
			return false, nil
		}
		t := time.NewTimer(every)
		select {
		case <-wctx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			r.stillRunning(last)
			return true, nil
		case <-t.C:
		}
	}
}

func (r *Run) stillRunning(last *sdk.Progress) {
	if last == nil {
		last = &sdk.Progress{}
	}
	r.still = last
}

// stateText is a progress report as a "still running" message shows it:
// "POWERING_OFF 40%".
func stateText(p sdk.Progress) string {
	s := p.State
	if s == "" {
		s = p.Message
	}
	if p.Percent >= 0 && p.State != "" {
		s += fmt.Sprintf(" %d%%", p.Percent)
	}
	return s
}

// CompleteByName gives op's parameters suggestion functions by their
// names (suggest["user"] for every parameter named user), leaving out
// sensitive parameters and those that have their own. Commands built
// from a provider's reference name what they act on alike, so one table
// serves them all, the on-demand "call" family included. The op is
// returned with its own copy of Complete.
func (op Op[C, R]) CompleteByName(suggest map[string]sdk.CompleteFunc) Op[C, R] {
	for _, prm := range op.Params {
		fn := suggest[prm.Name]
		if fn == nil || prm.Sensitive || op.Complete[prm.Name] != nil {
			continue
		}
		op.Complete = maps.Clone(op.Complete)
		if op.Complete == nil {
			op.Complete = map[string]sdk.CompleteFunc{}
		}
		op.Complete[prm.Name] = fn
	}
	return op
}
