package authz

import (
	"fmt"
	"net/netip"
	"reflect"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/deskbot/deskbot/sdk"
)

// Conditions are CEL expressions over the request:
//
//	args      map of the typed arguments (args.limit <= 10)
//	user      the requester's id
//	channel, target, provider, command, risk
//
// plus cidr("203.0.113.0/24") and `ip in cidr(...)`.

// cidrType is a container, so CEL's own `in` (which asks the right-hand
// side whether it contains the left) works on it.
var cidrType = types.NewObjectType("deskbot.cidr", traits.ContainerType)

// cidrVal is a network prefix inside CEL.
type cidrVal struct{ p netip.Prefix }

func (c cidrVal) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("cidr cannot be converted to %v", t)
}
func (c cidrVal) ConvertToType(t ref.Type) ref.Val {
	if t == types.StringType {
		return types.String(c.p.String())
	}
	return types.NewErr("cidr cannot be converted to %s", t.TypeName())
}
func (c cidrVal) Equal(o ref.Val) ref.Val {
	oc, ok := o.(cidrVal)
	return types.Bool(ok && oc.p == c.p)
}
func (c cidrVal) Type() ref.Type { return cidrType }

// Contains implements traits.Container: an IP string inside the network.
func (c cidrVal) Contains(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		return types.NewErr("`in cidr()` needs an IP address string on the left")
	}
	a, err := netip.ParseAddr(string(s))
	if err != nil {
		return types.False
	}
	return types.Bool(c.p.Contains(a.Unmap()))
}
func (c cidrVal) Value() any { return c.p }

func newCELEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("user", cel.StringType),
		cel.Variable("channel", cel.StringType),
		cel.Variable("target", cel.StringType),
		cel.Variable("provider", cel.StringType),
		cel.Variable("command", cel.StringType),
		cel.Variable("risk", cel.StringType),
		cel.Function("cidr",
			cel.Overload("cidr_string", []*cel.Type{cel.StringType}, cidrType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.NewErr("cidr() needs a string")
					}
					p, err := netip.ParsePrefix(string(s))
					if err != nil {
						return types.NewErr("cidr(%q): not a network", string(s))
					}
					return cidrVal{p.Masked()}
				}))),
		cel.Function(operators.In,
			cel.Overload("in_string_cidr", []*cel.Type{cel.StringType, cidrType}, cel.BoolType)),
	)
}

// condition is a compiled `when` expression.
type condition struct {
	src  string
	prog cel.Program
}

func compileCondition(env *cel.Env, src string) (*condition, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("the condition gives %s, not a boolean", ast.OutputType())
	}
	prog, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(100000))
	if err != nil {
		return nil, err
	}
	return &condition{src: src, prog: prog}, nil
}

func (c *condition) eval(s Subject, a Action) (bool, error) {
	args := make(map[string]any, len(a.Args))
	for k, v := range a.Args {
		args[k] = v
	}
	out, _, err := c.prog.Eval(map[string]any{
		"args": args, "user": s.User, "channel": a.Channel, "target": a.Target,
		"provider": a.Provider, "command": a.Command, "risk": a.Risk.String(),
	})
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("the condition gave %v, not a boolean", out)
	}
	return bool(b), nil
}

func riskOf(s string) (sdk.Risk, error) { return sdk.ParseRisk(s) }
