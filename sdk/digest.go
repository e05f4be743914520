package sdk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
)

// EndpointPath is an endpoint without its scheme, host and port: the part
// of a step that is the work, wherever the target is reached.
func EndpointPath(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return endpoint
	}
	return u.RequestURI()
}

// PlanDigest returns the digest of a plan's work: a canonical hash of its
// risk, of each step's method, endpoint and body (as the plan shows them,
// secrets masked), and of the facts the plan was made from (the record a
// line number points at, an account's current package). The same work
// gives the same digest; a change in any of them gives another. Words
// (the summary, step descriptions) are not part of it, nor is the scheme,
// host and port of an absolute endpoint: the target is what was approved,
// and the address it is reached at (a sandbox's port, a failover host)
// may differ between the process that planned and the one that runs.
func PlanDigest(risk Risk, steps []PlanStep, facts []string) string {
	type step struct {
		Method   string `json:"m"`
		Endpoint string `json:"e"`
		Body     string `json:"b"`
	}
	doc := struct {
		Risk  string   `json:"risk"`
		Steps []step   `json:"steps"`
		Facts []string `json:"facts"`
	}{Risk: risk.String(), Steps: make([]step, len(steps)), Facts: facts}
	for i, s := range steps {
		doc.Steps[i] = step{Method: s.Method, Endpoint: EndpointPath(s.Endpoint), Body: s.Body}
	}
	if doc.Facts == nil {
		doc.Facts = []string{}
	}
	// JSON of strings and slices is canonical: one encoding per value.
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("sdk: encoding a plan digest: %v", err))
	}
	sum := sha256.Sum256(b)
	return "v1:" + hex.EncodeToString(sum[:])
}

// WorkChanged is the refusal a command gives when the work it would do
// now has a digest other than the approved plan's (Request.PlanDigest).
func WorkChanged(cmd string) Diagnostics {
	return Diagnostics{{Severity: SeverityError, Code: CodeWorkChanged,
		Summary: fmt.Sprintf("what %s would do now differs from the plan that was approved; nothing was run", cmd),
		Detail:  "The provider's state changed between the approval and the run. Ask for the command again: its new plan will be shown for approval."}}
}
