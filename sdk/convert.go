package sdk

import (
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/deskbot/deskbot/proto/deskbot/provider/v1"
)

// Conversions between the SDK's types and the generated ones. Generated
// types stay at this boundary.

func commandToProto(c CommandSpec) *pb.Command {
	out := &pb.Command{
		Name:            c.Name,
		Summary:         c.Summary,
		Help:            c.Help,
		Risk:            pb.Risk(c.Risk),
		SupportsPlan:    c.SupportsPlan,
		Examples:        c.Examples,
		SensitiveOutput: c.SensitiveOutput,
		Hidden:          c.Hidden,
		Aliases:         c.Aliases,
		ExtraArguments:  c.ExtraArguments,
		NoProgress:      c.NoProgress,
	}
	out.Parameters = paramsToProto(c.Params)
	return out
}

func paramsToProto(ps []Param) []*pb.Parameter {
	var out []*pb.Parameter
	for _, p := range ps {
		pp := &pb.Parameter{
			Name:         p.Name,
			Description:  p.Description,
			Type:         pb.ParameterType(p.Type),
			FreeText:     p.Type == TypeText,
			Required:     p.Required,
			DefaultValue: p.Default,
			Sensitive:    p.Sensitive,
			Positional:   p.Positional,
			Repeated:     p.Repeated,
			Aliases:      p.Aliases,
			Minimum:      p.Min,
			Maximum:      p.Max,
			Resource:     p.Resource,
			Completes:    p.Completes,
		}
		if p.Type == TypeText {
			// Prose travels as a marked string: see free_text.
			pp.Type = pb.ParameterType_PARAMETER_TYPE_STRING
		}
		for _, e := range p.Enum {
			pp.EnumValues = append(pp.EnumValues, &pb.EnumValue{Value: e.Value, Description: e.Description, Aliases: e.Aliases})
		}
		out = append(out, pp)
	}
	return out
}

func paramsFromProto(ps []*pb.Parameter) []Param {
	var out []Param
	for _, p := range ps {
		pp := Param{
			Name:        p.GetName(),
			Description: p.GetDescription(),
			Type:        ParamType(p.GetType()),
			Required:    p.GetRequired(),
			Default:     p.GetDefaultValue(),
			Sensitive:   p.GetSensitive(),
			Positional:  p.GetPositional(),
			Repeated:    p.GetRepeated(),
			Aliases:     p.GetAliases(),
			Min:         p.Minimum,
			Max:         p.Maximum,
			Resource:    p.GetResource(),
			Completes:   p.GetCompletes(),
		}
		if p.GetFreeText() && pp.Type == TypeString {
			pp.Type = TypeText
		}
		for _, e := range p.GetEnumValues() {
			pp.Enum = append(pp.Enum, EnumValue{Value: e.GetValue(), Description: e.GetDescription(), Aliases: e.GetAliases()})
		}
		out = append(out, pp)
	}
	return out
}

func catalogToProto(c *Catalog) *pb.DescribeResponse {
	out := &pb.DescribeResponse{Commands: make([]*pb.Command, len(c.Commands))}
	for i, cmd := range c.Commands {
		out.Commands[i] = commandToProto(cmd)
	}
	out.Settings = paramsToProto(c.Settings)
	out.Secrets = paramsToProto(c.Secrets)
	out.SandboxSettings = paramsToProto(c.SandboxSettings)
	return out
}

func catalogFromProto(r *pb.DescribeResponse) *Catalog {
	out := &Catalog{Commands: make([]CommandSpec, len(r.GetCommands()))}
	for i, cmd := range r.GetCommands() {
		out.Commands[i] = commandFromProto(cmd)
	}
	out.Settings = paramsFromProto(r.GetSettings())
	out.Secrets = paramsFromProto(r.GetSecrets())
	out.SandboxSettings = paramsFromProto(r.GetSandboxSettings())
	return out
}

func targetToProto(t Target) *pb.Target {
	return &pb.Target{Name: t.Name, Settings: t.Settings, Secrets: t.Secrets, Sandbox: t.Sandbox, StateDir: t.StateDir}
}

func targetFromProto(t *pb.Target) Target {
	return Target{Name: t.GetName(), Settings: t.GetSettings(), Secrets: t.GetSecrets(), Sandbox: t.GetSandbox(), StateDir: t.GetStateDir()}
}

func commandFromProto(c *pb.Command) CommandSpec {
	out := CommandSpec{
		Name:            c.GetName(),
		Summary:         c.GetSummary(),
		Help:            c.GetHelp(),
		Risk:            Risk(c.GetRisk()),
		SupportsPlan:    c.GetSupportsPlan(),
		Examples:        c.GetExamples(),
		SensitiveOutput: c.GetSensitiveOutput(),
		Hidden:          c.GetHidden(),
		Aliases:         c.GetAliases(),
		ExtraArguments:  c.GetExtraArguments(),
		NoProgress:      c.GetNoProgress(),
	}
	out.Params = paramsFromProto(c.GetParameters())
	return out
}

func argsToProto(a Args) (map[string]*pb.Value, error) {
	if len(a) == 0 {
		return nil, nil
	}
	out := make(map[string]*pb.Value, len(a))
	for k, v := range a {
		pv, err := valueToProto(k, v)
		if err != nil {
			return nil, err
		}
		out[k] = pv
	}
	return out, nil
}

// argsToList is argsToProto for ExecuteUnary, which takes a list.
func argsToList(a Args) ([]*pb.Argument, error) {
	if len(a) == 0 {
		return nil, nil
	}
	out := make([]*pb.Argument, 0, len(a))
	for k, v := range a {
		pv, err := valueToProto(k, v)
		if err != nil {
			return nil, err
		}
		out = append(out, &pb.Argument{Name: k, Value: pv})
	}
	return out, nil
}

func valueToProto(name string, v any) (*pb.Value, error) {
	switch v := v.(type) {
	case string:
		return &pb.Value{Kind: &pb.Value_StringValue{StringValue: v}}, nil
	case int64:
		return &pb.Value{Kind: &pb.Value_IntValue{IntValue: v}}, nil
	case int:
		return &pb.Value{Kind: &pb.Value_IntValue{IntValue: int64(v)}}, nil
	case bool:
		return &pb.Value{Kind: &pb.Value_BoolValue{BoolValue: v}}, nil
	case []string:
		return &pb.Value{Kind: &pb.Value_ListValue{ListValue: &pb.StringList{Values: v}}}, nil
	}
	return nil, fmt.Errorf("argument %s: unsupported type %T", name, v)
}

func argsFromProto(m map[string]*pb.Value) Args {
	a := make(Args, len(m))
	for k, v := range m {
		if x, ok := valueFromProto(v); ok {
			a[k] = x
		}
	}
	return a
}

// argsFromList is argsFromProto for ExecuteUnary's list. A name given
// twice keeps its last value, as a map on the wire would.
func argsFromList(l []*pb.Argument) Args {
	a := make(Args, len(l))
	for _, arg := range l {
		if x, ok := valueFromProto(arg.GetValue()); ok {
			a[arg.GetName()] = x
		}
	}
	return a
}

func valueFromProto(v *pb.Value) (any, bool) {
	switch x := v.GetKind().(type) {
	case *pb.Value_StringValue:
		return x.StringValue, true
	case *pb.Value_IntValue:
		return x.IntValue, true
	case *pb.Value_BoolValue:
		return x.BoolValue, true
	case *pb.Value_ListValue:
		return x.ListValue.GetValues(), true
	}
	return nil, false
}

func contextToProto(r *Request) *pb.RequestContext {
	c := &pb.RequestContext{
		RequestId:  r.ID,
		Invoker:    r.Invoker,
		Channel:    r.Channel,
		Target:     r.Target,
		ApprovalId: r.ApprovalID,
		PlanDigest: r.PlanDigest,
	}
	if !r.Deadline.IsZero() {
		c.Deadline = timestamppb.New(r.Deadline)
	}
	return c
}

func requestFromProto(c *pb.RequestContext, command string, args map[string]*pb.Value) *Request {
	r := &Request{}
	fillRequest(r, c, command, argsFromProto(args))
	return r
}

// fillRequest sets r from a request's parts, in place (r is most often
// part of a larger request struct).
func fillRequest(r *Request, c *pb.RequestContext, command string, args Args) {
	*r = Request{
		ID:         c.GetRequestId(),
		Invoker:    c.GetInvoker(),
		Channel:    c.GetChannel(),
		Target:     c.GetTarget(),
		ApprovalID: c.GetApprovalId(),
		PlanDigest: c.GetPlanDigest(),
		Command:    command,
		Args:       args,
	}
	if c.GetDeadline() != nil {
		r.Deadline = c.GetDeadline().AsTime()
	}
}

func diagnosticsToProto(ds Diagnostics) []*pb.Diagnostic {
	if len(ds) == 0 {
		return nil
	}
	out := make([]*pb.Diagnostic, len(ds))
	for i, d := range ds {
		out[i] = &pb.Diagnostic{Severity: pb.Severity(d.Severity), Summary: d.Summary, Detail: d.Detail, Attribute: d.Attribute, Code: d.Code}
	}
	return out
}

func diagnosticsFromProto(ds []*pb.Diagnostic) Diagnostics {
	if len(ds) == 0 {
		return nil
	}
	out := make(Diagnostics, len(ds))
	for i, d := range ds {
		sev := Severity(d.GetSeverity())
		if sev == 0 {
			sev = SeverityError
		}
		out[i] = Diagnostic{Severity: sev, Summary: d.GetSummary(), Detail: d.GetDetail(), Attribute: d.GetAttribute(), Code: d.GetCode()}
	}
	return out
}

func planToProto(p *Plan) *pb.Plan {
	if p == nil {
		return nil
	}
	out := &pb.Plan{Summary: p.Summary, Risk: pb.Risk(p.Risk), Digest: p.Digest, Facts: p.Facts, Resource: p.Resource}
	for _, s := range p.Steps {
		out.Steps = append(out.Steps, &pb.PlanStep{Description: s.Description, Method: s.Method, Endpoint: s.Endpoint, Body: s.Body})
	}
	return out
}

func planFromProto(p *pb.Plan) *Plan {
	if p == nil {
		return nil
	}
	out := &Plan{Summary: p.GetSummary(), Risk: Risk(p.GetRisk()), Digest: p.GetDigest(), Facts: p.GetFacts(), Resource: p.GetResource()}
	for _, s := range p.GetSteps() {
		out.Steps = append(out.Steps, PlanStep{Description: s.GetDescription(), Method: s.GetMethod(), Endpoint: s.GetEndpoint(), Body: s.GetBody()})
	}
	return out
}

func resultToProto(r *Result) *pb.Result {
	out := &pb.Result{Diagnostics: diagnosticsToProto(r.Diagnostics), Sensitive: r.Sensitive}
	for _, p := range r.Parts {
		pp := &pb.Part{Title: p.Title}
		switch {
		case p.Text != nil:
			pp.Kind = &pb.Part_Text{Text: &pb.Text{Body: p.Text.Body, Format: pb.TextFormat(p.Text.Format)}}
		case p.Table != nil:
			t := &pb.Table{Columns: p.Table.Columns, Rows: make([]*pb.Row, len(p.Table.Rows))}
			for i, row := range p.Table.Rows {
				t.Rows[i] = &pb.Row{Cells: row}
			}
			pp.Kind = &pb.Part_Table{Table: t}
		case p.File != nil:
			pp.Kind = &pb.Part_File{File: &pb.File{Name: p.File.Name, MediaType: p.File.MediaType, Content: p.File.Content}}
		default:
			kv := &pb.KeyValues{Items: make([]*pb.KeyValue, len(p.KeyValues))}
			for i, item := range p.KeyValues {
				kv.Items[i] = &pb.KeyValue{Key: item.Key, Value: item.Value}
			}
			pp.Kind = &pb.Part_KeyValues{KeyValues: kv}
		}
		out.Parts = append(out.Parts, pp)
	}
	return out
}

func resultFromProto(r *pb.Result) *Result {
	out := &Result{Diagnostics: diagnosticsFromProto(r.GetDiagnostics()), Sensitive: r.GetSensitive()}
	for _, p := range r.GetParts() {
		part := Part{Title: p.GetTitle()}
		switch k := p.GetKind().(type) {
		case *pb.Part_Text:
			part.Text = &Text{Body: k.Text.GetBody(), Format: TextFormat(k.Text.GetFormat())}
		case *pb.Part_Table:
			t := &Table{Columns: k.Table.GetColumns(), Rows: make([][]string, len(k.Table.GetRows()))}
			for i, row := range k.Table.GetRows() {
				t.Rows[i] = row.GetCells()
			}
			part.Table = t
		case *pb.Part_File:
			part.File = &File{Name: k.File.GetName(), MediaType: k.File.GetMediaType(), Content: k.File.GetContent()}
		case *pb.Part_KeyValues:
			for _, item := range k.KeyValues.GetItems() {
				part.KeyValues = append(part.KeyValues, KeyValue{Key: item.GetKey(), Value: item.GetValue()})
			}
		default:
			continue
		}
		out.Parts = append(out.Parts, part)
	}
	return out
}

func healthFromProto(h *pb.CheckHealthResponse) *Health {
	out := &Health{Status: HealthStatus(h.GetStatus())}
	for _, t := range h.GetTargets() {
		out.Targets = append(out.Targets, TargetHealth{Target: t.GetTarget(), Status: HealthStatus(t.GetStatus()), Message: t.GetMessage()})
	}
	return out
}

func healthToProto(h *Health) *pb.CheckHealthResponse {
	out := &pb.CheckHealthResponse{Status: pb.HealthStatus(h.Status)}
	for _, t := range h.Targets {
		out.Targets = append(out.Targets, &pb.TargetHealth{Target: t.Target, Status: pb.HealthStatus(t.Status), Message: t.Message})
	}
	return out
}
