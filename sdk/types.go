package sdk

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ProtocolMinor is the revision of the v1 contract this SDK speaks. Minor
// 7 added ExecuteUnary for commands that report no progress.
const ProtocolMinor = 7

// Risk orders commands by the harm a mistake can do. The policy decides,
// per risk, whether a command needs approval.
type Risk int

const (
	RiskUnspecified Risk = iota
	RiskReadOnly
	RiskLow
	RiskHigh
	RiskCritical
)

var riskNames = []string{"unspecified", "read-only", "low", "high", "critical"}

func (r Risk) String() string {
	if r < 0 || int(r) >= len(riskNames) {
		return fmt.Sprintf("risk(%d)", int(r))
	}
	return riskNames[r]
}

// ParseRisk reads a risk level as written in policies ("read-only", "high").
func ParseRisk(s string) (Risk, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "read-only", "readonly", "read_only", "ro":
		return RiskReadOnly, nil
	case "low":
		return RiskLow, nil
	case "high":
		return RiskHigh, nil
	case "critical":
		return RiskCritical, nil
	}
	return RiskUnspecified, fmt.Errorf("unknown risk level %q (want read-only, low, high or critical)", s)
}

// ParamType is the type a parameter's value is checked and converted to.
type ParamType int

const (
	TypeUnspecified ParamType = iota
	TypeString
	TypeInt
	TypeBool
	TypeEnum
	TypeIP
	TypeCIDR
	TypeDomain
	TypeEmail
	TypeDuration
	TypeSize
	// TypeText is prose (a reason, a note): given by name, it takes the
	// rest of the command line, quotes and apostrophes included, up to
	// the next argument of the command (protocol minor 6; on the wire a
	// STRING marked free_text, which older hosts read as a string).
	TypeText
)

var typeNames = []string{"unspecified", "string", "int", "bool", "enum", "ip", "cidr", "domain", "email", "duration", "size", "text"}

func (t ParamType) String() string {
	if t < 0 || int(t) >= len(typeNames) {
		return fmt.Sprintf("type(%d)", int(t))
	}
	return typeNames[t]
}

// EnumValue is one accepted value of an enum parameter.
type EnumValue struct {
	Value       string
	Description string
	// Aliases are other spellings meaning Value: a product code, a name.
	Aliases []string
}

// Param describes one parameter of a command.
type Param struct {
	Name        string
	Description string
	Type        ParamType
	Required    bool
	// Default is written as a user would type it.
	Default    string
	Enum       []EnumValue
	Sensitive  bool
	Positional bool
	Repeated   bool
	Aliases    []string
	Min, Max   *int64
	// Resource marks the parameter that names what the command acts on
	// (the account, record, VM): approvers of critical commands type its
	// value to confirm. At most one per command, never a sensitive one
	// (protocol minor 4).
	Resource bool
	// Completes says the plugin suggests values for the parameter
	// (Complete): a form offers them as the user types. The SDK sets it
	// for every parameter with a completion function.
	Completes bool
}

// CommandSpec is one entry of a plugin's catalog.
type CommandSpec struct {
	// Name is one or more lower-case words separated by single spaces.
	Name    string
	Summary string
	// Help is markdown shown by "help".
	Help            string
	Params          []Param
	Risk            Risk
	SupportsPlan    bool
	Examples        []string
	SensitiveOutput bool
	Hidden          bool
	Aliases         []string
	// ExtraArguments accepts undeclared key=value arguments as strings;
	// the plugin validates them (protocol minor 2).
	ExtraArguments bool
	// NoProgress says the command never reports progress, so the bot runs
	// it with one unary call instead of a stream (protocol minor 7).
	NoProgress bool
}

// ResourceParam returns the name of the parameter that names what the
// command acts on (see [Param.AsResource]), or "" if none is marked.
func (c CommandSpec) ResourceParam() string {
	for _, p := range c.Params {
		if p.Resource {
			return p.Name
		}
	}
	return ""
}

// CheckResource reports what is wrong with the command's resource
// parameter: more than one marked, or a sensitive one (its value would be
// typed in chat to confirm). nil if all is well.
func (c CommandSpec) CheckResource() error {
	var marked []string
	for _, p := range c.Params {
		if !p.Resource {
			continue
		}
		marked = append(marked, p.Name)
		if p.Sensitive {
			return fmt.Errorf("command %q: parameter %q is sensitive and cannot be its resource (approvers type the resource's value to confirm)", c.Name, p.Name)
		}
	}
	if len(marked) > 1 {
		return fmt.Errorf("command %q marks %d resource parameters (%s); at most one names what it acts on", c.Name, len(marked), strings.Join(marked, ", "))
	}
	return nil
}

// Param returns the parameter called name (or aliased so), if any.
func (c *CommandSpec) Param(name string) (*Param, bool) {
	for i := range c.Params {
		p := &c.Params[i]
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
		for _, a := range p.Aliases {
			if strings.EqualFold(a, name) {
				return p, true
			}
		}
	}
	return nil, false
}

// Metadata names a plugin.
type Metadata struct {
	Name        string
	Version     string
	Description string
	// DisplayName is the provider as users know it ("WHM"), in messages
	// such as "the WHM provider is unavailable right now".
	DisplayName   string
	ProtocolMinor int
	Capabilities  []string
}

// HasCapability reports whether the plugin declared capability c.
func (m Metadata) HasCapability(c string) bool {
	for _, x := range m.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// CapabilityComplete is declared by plugins that implement [Completer].
const CapabilityComplete = "complete"

// Target is one configured provider endpoint: a WHM server, an IONOS
// account. Secrets arrive only here, once, and never in a request.
type Target struct {
	Name     string
	Settings map[string]string
	Secrets  map[string]string
	// Sandbox asks the plugin to serve its own simulator and use it.
	Sandbox bool
	// StateDir is where a sandbox target keeps its simulator's state
	// between runs ("" keeps none). The bot sets it; it is not one of the
	// provider's settings (protocol minor 3).
	StateDir string
}

// Request is one user request as a plugin sees it.
type Request struct {
	ID      string
	Invoker string
	Channel string
	Target  string
	// Deadline is when the bot stops waiting; ctx carries it too.
	Deadline   time.Time
	ApprovalID string
	Command    string
	Args       Args
	// PlanDigest, when set, is the digest of the plan that was approved:
	// a plugin refuses to run work that has changed since (protocol
	// minor 3).
	PlanDigest string
}

// Plan is what a command will do, shown to the requester and approvers.
type Plan struct {
	Summary string
	Steps   []PlanStep
	// Risk may raise, never lower, the catalog's risk for these arguments.
	Risk Risk
	// Digest identifies the work: the same work gives the same digest,
	// any change in a step or in what the plan was made from gives
	// another ("" when the plugin computes none; protocol minor 3).
	Digest string
	// Facts are what the plan was made from (a record's type and content,
	// a zone's serial, a machine's state), shown to approvers. They are
	// part of the digest: if one changes before the run, nothing runs.
	Facts []string
	// Resource is the canonical name of what the command acts on, when
	// the plan knows it better than the request (a machine named by its
	// id): approvers of a critical command type it. Empty means the
	// resource parameter's value.
	Resource string
}

// PlanStep is one provider call a command will make.
type PlanStep struct {
	Description string
	Method      string
	Endpoint    string
	// Body is the request body with sensitive values redacted.
	Body string
}

// PlanResponse carries a plan or the reasons there is none.
type PlanResponse struct {
	Plan        *Plan
	Diagnostics Diagnostics
}

// Progress is one update from a running command.
type Progress struct {
	Message string
	// Percent is 0..100, or -1 when unknown.
	Percent int
	// State is the provider's word for where the work is ("POWERING_OFF"),
	// or [ProgressQueued].
	State string
}

// Shown returns the state and the message to show for p, neither
// repeating the other: a message that only repeats the state and the
// percent ("POWERING_OFF 16%") is dropped, and a state the message
// begins with in words ("queued behind IONOS's request limit" for
// QUEUED) is left to the message. The percent is the caller's to show.
func (p Progress) Shown() (state, message string) {
	state, message = p.State, strings.TrimSpace(p.Message)
	words := strings.Fields(message)
	pct := ""
	if p.Percent >= 0 {
		pct = strconv.Itoa(p.Percent) + "%"
	}
	rest := words
	for len(rest) > 0 && (state != "" && strings.EqualFold(rest[0], state) || rest[0] == pct) {
		rest = rest[1:]
	}
	switch {
	case len(rest) == 0:
		message = ""
	case state != "" && strings.EqualFold(words[0], state):
		state = ""
	}
	return state, message
}

// ProgressQueued is the State of a report that the command is waiting its
// turn behind the provider's request limit and has sent nothing meanwhile.
// The bot does not count that wait against the call's deadline (up to a
// bound of its own, pluginhost.Config.MaxQueueWait), and neither does the
// Deadline of the command's ctx; the next report with any other State says
// the wait is over. httpapi.WithQueueNotice and httpapi.WithQueueLeft are
// where a command learns of such waits.
const ProgressQueued = "QUEUED"

// HealthStatus is the outcome of a health check.
type HealthStatus int

const (
	HealthUnknown HealthStatus = iota
	HealthOK
	HealthDegraded
	HealthDown
)

func (h HealthStatus) String() string {
	switch h {
	case HealthOK:
		return "ok"
	case HealthDegraded:
		return "degraded"
	case HealthDown:
		return "down"
	}
	return "unknown"
}

// TargetHealth is the health of one target.
type TargetHealth struct {
	Target  string
	Status  HealthStatus
	Message string
}

// Health is a plugin's answer to a health check.
type Health struct {
	Status  HealthStatus
	Targets []TargetHealth
}

// Suggestion is one value offered for completion.
type Suggestion struct {
	Value       string
	Description string
}
