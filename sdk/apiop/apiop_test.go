package apiop_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
	"github.com/deskbot/deskbot/sdk/redact"
)

// zone is a provider's API in memory: DNS records by line, and jobs that
// take a number of polls to finish.
type zone struct {
	mu      sync.Mutex
	records []string
	calls   []string
	jobs    map[int]int // id -> polls left
	red     *redact.Redactor
}

func (z *zone) call(s string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls = append(z.calls, s)
}

func (z *zone) changes() []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	var out []string
	for _, c := range z.calls {
		if !strings.HasPrefix(c, "GET") {
			out = append(out, c)
		}
	}
	return out
}

type answer = string

var api = &apiop.API[*zone, answer]{
	Name:     "Zone",
	Client:   func(c *sdk.Call) (*zone, error) { return sdk.EnvOf[*zone](c) },
	Redactor: func(z *zone) *redact.Redactor { return z.red },
	Show: func(z *zone, a sdk.Args, res []answer, out *sdk.Result) error {
		out.AddText("%s", strings.Join(res, "; "))
		return nil
	},
}

type op = apiop.Op[*zone, answer]

func newPlugin(t *testing.T, z *zone) *sdk.Plugin {
	p := sdk.New("zone", "1")
	p.OnConfigure(func(ctx context.Context, tc *sdk.TargetConfig) (any, error) { return z, nil })
	apiop.Register(p, api, op{
		Name: "record remove", Summary: "Remove a record by its line", Risk: sdk.RiskHigh,
		Params: []sdk.Param{sdk.Int("line", "the line").AsRequired()},
		Work: func(ctx context.Context, z *zone, a sdk.Args) (*apiop.Work[answer], error) {
			n := int(a.Int("line"))
			z.call("GET /records")
			z.mu.Lock()
			defer z.mu.Unlock()
			if n < 0 || n >= len(z.records) {
				return nil, sdk.BadArg("line", "there is no line %d", n)
			}
			rec := z.records[n]
			return &apiop.Work[answer]{
				Summary: "Remove line " + strconv.Itoa(n), Notes: []string{"It holds " + rec + "."},
				Facts: []string{rec},
				Steps: []apiop.Step[answer]{{What: "remove line " + strconv.Itoa(n), Method: "POST", Endpoint: "/records/remove", Body: "line=" + strconv.Itoa(n),
					Do: func(ctx context.Context, run *apiop.Run) (answer, error) {
						z.call("POST /records/remove " + strconv.Itoa(n))
						z.mu.Lock()
						defer z.mu.Unlock()
						z.records = append(z.records[:n], z.records[n+1:]...)
						return "removed " + rec, nil
					}}},
			}, nil
		},
	})
	apiop.Register(p, api, op{
		Name: "job run", Summary: "Start a job and follow it", Risk: sdk.RiskLow,
		Params: []sdk.Param{sdk.Int("polls", "how many polls it takes").WithDefault("3"), sdk.String("password", "a secret").AsSensitive()},
		Work: func(ctx context.Context, z *zone, a sdk.Args) (*apiop.Work[answer], error) {
			polls := int(a.Int("polls"))
			return &apiop.Work[answer]{Summary: "Run a job", CheckWith: "/zone job status",
				Steps: []apiop.Step[answer]{{What: "start the job", Method: "POST", Endpoint: "/jobs", Body: `{"password":"` + a.String("password") + `"}`, Follows: true,
					Do: func(ctx context.Context, run *apiop.Run) (answer, error) {
						z.call("POST /jobs")
						z.mu.Lock()
						id := len(z.jobs) + 1
						z.jobs[id] = polls
						z.mu.Unlock()
						still, err := run.Follow(ctx, time.Second, func(ctx context.Context) (sdk.Progress, bool, error) {
							z.call("GET /jobs/" + strconv.Itoa(id))
							z.mu.Lock()
							defer z.mu.Unlock()
							left := z.jobs[id]
							if left == 0 {
								return sdk.Progress{State: "DONE", Percent: 100, Message: "done"}, true, nil
							}
							z.jobs[id]--
							return sdk.Progress{State: "RUNNING", Percent: 100 * (polls - left) / polls, Message: "running"}, false, nil
						})
						if err != nil {
							return "", err
						}
						if still {
							return "job " + strconv.Itoa(id) + " goes on", nil
						}
						return "job " + strconv.Itoa(id) + " done", nil
					}}},
			}, nil
		},
	})
	apiop.Register(p, api, op{
		Name: "records replace", Summary: "Two changes in a row", Risk: sdk.RiskHigh,
		Work: func(ctx context.Context, z *zone, a sdk.Args) (*apiop.Work[answer], error) {
			step := func(what string, fail bool) apiop.Step[answer] {
				return apiop.Step[answer]{What: what, Method: "POST", Endpoint: "/records/" + strings.ReplaceAll(what, " ", "-"),
					Do: func(ctx context.Context, run *apiop.Run) (answer, error) {
						z.call("POST " + what)
						if fail {
							return "", errors.New("the zone is locked")
						}
						return what + " done", nil
					}}
			}
			return &apiop.Work[answer]{Summary: "Replace", Steps: []apiop.Step[answer]{step("add the new record", false), step("remove the old record", true)}}, nil
		},
	})
	_, err := p.Configure(context.Background(), &sdk.ConfigureRequest{Targets: []sdk.Target{{Name: "main"}}})
	require.NoError(t, err)
	return p
}

func newZone() *zone {
	return &zone{records: []string{"A 203.0.113.1", "TXT v=spf1 -all", "MX 10 mx.example."}, jobs: map[int]int{}, red: redact.New()}
}

func plan(t *testing.T, p *sdk.Plugin, cmd string, args sdk.Args) *sdk.PlanResponse {
	t.Helper()
	pr, err := p.Plan(context.Background(), &sdk.PlanRequest{Request: sdk.Request{Command: cmd, Args: args}})
	require.NoError(t, err)
	return pr
}

func execute(t *testing.T, ctx context.Context, p *sdk.Plugin, req sdk.Request) (*sdk.Result, []sdk.Progress) {
	t.Helper()
	var mu sync.Mutex
	var prog []sdk.Progress
	res, err := p.Execute(ctx, &sdk.ExecuteRequest{Request: req, Progress: func(pg sdk.Progress) { mu.Lock(); prog = append(prog, pg); mu.Unlock() }})
	require.NoError(t, err)
	return res, prog
}

// Plan describes the work without doing it; Run builds the same work and
// does it; an approved plan whose facts changed is refused.
func TestPlanShowsTheWorkRunDoesIt(t *testing.T) {
	z := newZone()
	p := newPlugin(t, z)
	pr := plan(t, p, "record remove", sdk.Args{"line": int64(2)})
	require.NotNil(t, pr.Plan, "%v", pr.Diagnostics)
	assert.Equal(t, "Remove line 2\nIt holds MX 10 mx.example..", pr.Plan.Summary)
	assert.Equal(t, []sdk.PlanStep{{Description: "remove line 2", Method: "POST", Endpoint: "/records/remove", Body: "line=2"}}, pr.Plan.Steps)
	assert.Equal(t, sdk.RiskHigh, pr.Plan.Risk)
	assert.Empty(t, z.changes(), "planning changes nothing")
	assert.Equal(t, pr.Plan.Digest, plan(t, p, "record remove", sdk.Args{"line": int64(2)}).Plan.Digest, "the same work, the same digest")

	// Another request removes line 1 first: line 2 now holds nothing,
	// and what was line 2 is line 1.
	z.mu.Lock()
	z.records = append(z.records[:1], z.records[2:]...)
	z.mu.Unlock()
	res, _ := execute(t, context.Background(), p, sdk.Request{Command: "record remove", Args: sdk.Args{"line": int64(2)}, PlanDigest: pr.Plan.Digest})
	require.True(t, res.Failed())
	assert.Contains(t, res.Diagnostics.Err().Error(), "there is no line 2")
	assert.Empty(t, z.changes())

	pr = plan(t, p, "record remove", sdk.Args{"line": int64(1)})
	z.mu.Lock()
	z.records = []string{"A 203.0.113.1", "TXT v=spf1 -all"} // line 1 holds something else now
	z.mu.Unlock()
	res, _ = execute(t, context.Background(), p, sdk.Request{Command: "record remove", Args: sdk.Args{"line": int64(1)}, PlanDigest: pr.Plan.Digest})
	require.True(t, res.Failed())
	assert.Contains(t, res.Diagnostics[0].Summary, "differs from the plan that was approved; nothing was run")
	assert.Empty(t, z.changes(), "the changed work was refused before any call")

	pr = plan(t, p, "record remove", sdk.Args{"line": int64(1)})
	res, _ = execute(t, context.Background(), p, sdk.Request{Command: "record remove", Args: sdk.Args{"line": int64(1)}, PlanDigest: pr.Plan.Digest})
	require.False(t, res.Failed(), "%v", res.Diagnostics)
	assert.Equal(t, "removed TXT v=spf1 -all", res.Parts[0].Text.Body)
	assert.Equal(t, []string{"POST /records/remove 1"}, z.changes())
}

// Long work is followed with progress to its end; near the deadline the
// answer says it is still running and how to check on it.
func TestFollowReportsProgressAndStillRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		z := newZone()
		p := newPlugin(t, z)
		pr := plan(t, p, "job run", sdk.Args{"polls": int64(3)})
		assert.Equal(t, "start the job; then followed until done", pr.Plan.Steps[0].Description)

		res, prog := execute(t, context.Background(), p, sdk.Request{Command: "job run", Args: sdk.Args{"polls": int64(3)}})
		require.False(t, res.Failed(), "%v", res.Diagnostics)
		assert.Equal(t, "job 1 done", res.Parts[0].Text.Body)
		var states []string
		for _, pg := range prog {
			states = append(states, fmt.Sprintf("%s %d", pg.State, pg.Percent))
		}
		assert.Equal(t, []string{"RUNNING 0", "RUNNING 33", "RUNNING 66", "DONE 100"}, states)

		// A job of a thousand polls, a minute to answer in: the answer
		// comes 3 s before the deadline, saying it goes on.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		res, _ = execute(t, ctx, p, sdk.Request{Command: "job run", Args: sdk.Args{"polls": int64(1000)}})
		assert.Equal(t, 57*time.Second, time.Since(start).Round(time.Second))
		require.False(t, res.Failed(), "%v", res.Diagnostics)
		assert.Equal(t, "job 2 goes on", res.Parts[0].Text.Body)
		require.Len(t, res.Diagnostics, 1)
		assert.Equal(t, "Still running at Zone (RUNNING 5%). Check with /zone job status.", res.Diagnostics[0].Summary)
	})
}

// A step that fails after others succeeded says which did.
func TestAFailedStepNamesTheStepsThatSucceeded(t *testing.T) {
	z := newZone()
	p := newPlugin(t, z)
	res, prog := execute(t, context.Background(), p, sdk.Request{Command: "records replace"})
	require.True(t, res.Failed())
	assert.Equal(t, "the zone is locked (after 1 of 2 steps had succeeded: add the new record)", res.Diagnostics[0].Summary)
	assert.Equal(t, []string{"POST add the new record", "POST remove the old record"}, z.changes())
	require.Len(t, prog, 2)
	assert.Equal(t, "remove the old record", prog[1].Message)
	assert.Equal(t, 50, prog[1].Percent)
}

// Secrets never reach a plan or a result, whether they are the request's
// sensitive arguments or values under the provider's sensitive keys.
func TestSecretsAreMaskedInThePlanAndTheResult(t *testing.T) {
	const canary = "CANARY-apiop-password-3b1c"
	z := newZone()
	p := newPlugin(t, z)
	pr := plan(t, p, "job run", sdk.Args{"polls": int64(1), "password": canary})
	assert.NotContains(t, fmt.Sprintf("%+v", pr.Plan), canary)
	assert.Equal(t, `{"password":"[REDACTED]"}`, pr.Plan.Steps[0].Body)
	res, _ := execute(t, context.Background(), p, sdk.Request{Command: "job run", Args: sdk.Args{"polls": int64(1), "password": canary}})
	assert.NotContains(t, fmt.Sprintf("%+v %+v", res, res.Parts), canary)
}
