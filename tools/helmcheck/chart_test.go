// Package helmcheck tests the Helm chart in deploy/helm/deskbot with
// Helm's own Go packages: it lints the chart, renders it as helm
// template does, and validates every rendered object offline by strict
// decoding into the Kubernetes API types (unknown or misspelt fields,
// wrong types and duplicate keys are errors) plus the API machinery's
// own metadata and label-selector validation.
package helmcheck

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

const chartDir = "../../deploy/helm/deskbot"

// kubeVersion is the oldest Kubernetes the chart supports (Chart.yaml's
// kubeVersion). Helm's test builds assume v1.20 otherwise.
var kubeVersion = func() *common.KubeVersion {
	v, err := common.ParseKubeVersion("v1.27.0")
	if err != nil {
		panic(err)
	}
	return v
}()

// Canary secret values: none may show anywhere but in a Secret.
const (
	canaryDSN      = "postgres://deskbot:canary-dsn-7f3a@db.example.net/deskbot"
	canarySigning  = "canary-signing-91c2"
	canaryBot      = "xoxb-canary-bot-55d0"
	canaryApp      = "xapp-canary-app-0e1b"
	canaryApproval = "canary-approval-key-3b8e"
	canaryAudit    = "canary-audit-key-c4a9"
	canaryProvider = "canary-whm-token-a61f"
)

// minimal is the least a user must give: the DSN, the Slack secrets, the
// two keys and a policy.
func minimal() map[string]any {
	return map[string]any{
		"postgres": map[string]any{"dsn": canaryDSN},
		"secrets": map[string]any{
			"slackSigningSecret": canarySigning,
			"slackBotToken":      canaryBot,
			"approvalKey":        canaryApproval,
			"auditKey":           canaryAudit,
		},
		"policy": "version: 1\nusers:\n  erin: U0ERIN001\n",
	}
}

func fullValues(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "ci", "full-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// rendered is one helm template run.
type rendered struct {
	objects []runtime.Object
	docs    map[string]string // "Kind/name" -> its YAML
	notes   string
}

// render renders the chart as helm template does (client-only dry run)
// and strictly decodes every object.
func render(t *testing.T, vals map[string]any) *rendered {
	t.Helper()
	r, err := tryRender(vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return r
}

func tryRender(vals map[string]any) (*rendered, error) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	install := action.NewInstall(action.NewConfiguration())
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = "deskbot"
	install.Namespace = "support"
	install.Replace = true
	install.KubeVersion = kubeVersion
	rel, err := install.Run(chrt, vals)
	if err != nil {
		return nil, err
	}
	r := rel.(*release.Release)
	out := &rendered{docs: map[string]string{}, notes: r.Info.Notes}
	for _, doc := range releaseutil.SplitManifests(r.Manifest) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj, err := decodeStrict([]byte(doc))
		if err != nil {
			return nil, err
		}
		key := fmt.Sprintf("%s/%s", obj.GetObjectKind().GroupVersionKind().Kind, obj.(metav1.Object).GetName())
		if _, dup := out.docs[key]; dup {
			return nil, fmt.Errorf("%s rendered twice", key)
		}
		out.docs[key] = doc
		out.objects = append(out.objects, obj)
	}
	return out, nil
}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := monitoringv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// strict refuses unknown fields, duplicate fields and wrong types.
var strict = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// decodeStrict decodes one rendered object into its API type and
// validates its metadata as the API server does.
func decodeStrict(doc []byte) (runtime.Object, error) {
	obj, gvk, err := strict.Decode(doc, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, doc)
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%s has no object metadata", gvk)
	}
	errs := apivalidation.ValidateObjectMeta(toObjectMeta(m), true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s %s: %v", gvk.Kind, m.GetName(), errs.ToAggregate())
	}
	return obj, nil
}

func toObjectMeta(m metav1.Object) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), Labels: m.GetLabels(), Annotations: m.GetAnnotations()}
}

func find[T runtime.Object](t *testing.T, r *rendered) T {
	t.Helper()
	var found []T
	for _, o := range r.objects {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want one %T, rendered %d", zero, len(found))
	}
	return found[0]
}

func count[T runtime.Object](r *rendered) int {
	n := 0
	for _, o := range r.objects {
		if _, ok := o.(T); ok {
			n++
		}
	}
	return n
}

func container(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(d.Spec.Template.Spec.Containers))
	}
	return d.Spec.Template.Spec.Containers[0]
}

func envNames(c corev1.Container) []string {
	var out []string
	for _, e := range c.Env {
		out = append(out, e.Name)
	}
	return out
}

// botYAML is the bot.yaml the chart's ConfigMap carries, decoded.
func botYAML(t *testing.T, r *rendered) map[string]any {
	t.Helper()
	for _, o := range r.objects {
		if cm, ok := o.(*corev1.ConfigMap); ok && cm.Data["bot.yaml"] != "" {
			var cfg map[string]any
			if err := yaml.Unmarshal([]byte(cm.Data["bot.yaml"]), &cfg); err != nil {
				t.Fatalf("bot.yaml is not YAML: %v\n%s", err, cm.Data["bot.yaml"])
			}
			return cfg
		}
	}
	t.Fatal("no ConfigMap carries bot.yaml")
	return nil
}

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func TestLint(t *testing.T) {
	for name, vals := range map[string]map[string]any{"defaults": nil, "minimal": minimal(), "full": fullValues(t)} {
		t.Run(name, func(t *testing.T) {
			lint := action.NewLint()
			lint.KubeVersion = kubeVersion
			res := lint.Run([]string{chartDir}, vals)
			for _, m := range res.Messages {
				t.Logf("lint: %s", m)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("lint errors: %v", res.Errors)
			}
		})
	}
}

// TestConsistent checks what the API server would only notice when the
// pods fail to start: selectors that select the pods, Services and
// probes that name a port the container has, Secrets and ConfigMaps the
// pods use that the chart renders (or the values name), mounts of
// volumes that exist.
func TestConsistent(t *testing.T) {
	for name, vals := range map[string]map[string]any{"minimal": minimal(), "full": fullValues(t)} {
		t.Run(name, func(t *testing.T) {
			r := render(t, vals)
			d := find[*appsv1.Deployment](t, r)
			podLabels := d.Spec.Template.Labels
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil {
				t.Fatal(err)
			}
			if errs := metav1validation.ValidateLabelSelector(d.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector")); len(errs) > 0 {
				t.Fatal(errs.ToAggregate())
			}
			if !sel.Matches(labels.Set(podLabels)) {
				t.Fatalf("the Deployment's selector %v does not select its pods %v", sel, podLabels)
			}
			svc := find[*corev1.Service](t, r)
			for k, v := range svc.Spec.Selector {
				if podLabels[k] != v {
					t.Fatalf("the Service selects %s=%s; the pods have %v", k, v, podLabels)
				}
			}
			pdb := find[*policyv1.PodDisruptionBudget](t, r)
			psel, _ := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if !psel.Matches(labels.Set(podLabels)) {
				t.Fatalf("the PodDisruptionBudget's selector %v does not select the pods", psel)
			}

			c := container(t, d)
			ports := map[string]bool{}
			for _, p := range c.Ports {
				ports[p.Name] = true
			}
			if !ports[svc.Spec.Ports[0].TargetPort.StrVal] {
				t.Fatalf("the Service targets port %v, the container has %v", svc.Spec.Ports[0].TargetPort, c.Ports)
			}
			for _, p := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil || !ports[p.HTTPGet.Port.StrVal] {
					t.Fatalf("a probe names no port of the container: %+v", p)
				}
			}

			secrets := map[string]bool{}
			for _, o := range r.objects {
				if s, ok := o.(*corev1.Secret); ok {
					for k := range s.Data {
						secrets[s.Name+"/"+k] = true
					}
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				if strings.HasPrefix(ref.Name, "support-bot") || ref.Name == "deskbot" {
					if !secrets[ref.Name+"/"+ref.Key] {
						t.Errorf("%s comes from %s/%s, which the chart does not render (rendered: %v)", e.Name, ref.Name, ref.Key, secrets)
					}
				}
			}

			vols := map[string]corev1.Volume{}
			for _, v := range d.Spec.Template.Spec.Volumes {
				vols[v.Name] = v
			}
			for _, m := range c.VolumeMounts {
				if _, ok := vols[m.Name]; !ok {
					t.Errorf("mount %s of a volume that does not exist", m.Name)
				}
			}
			cm := vols["config"].ConfigMap
			if cm == nil || count[*corev1.ConfigMap](r) != 1 || find[*corev1.ConfigMap](t, r).Name != cm.Name {
				t.Errorf("the config volume does not mount the chart's ConfigMap")
			}
			if sa := find[*corev1.ServiceAccount](t, r); sa.Name != d.Spec.Template.Spec.ServiceAccountName {
				t.Errorf("the pods run as %q, the chart creates %q", d.Spec.Template.Spec.ServiceAccountName, sa.Name)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	r := render(t, minimal())
	d := find[*appsv1.Deployment](t, r)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas: want 2, got %v", deref(d.Spec.Replicas))
	}
	c := container(t, d)
	if c.Image != "deskbot:0.1.0" {
		t.Errorf("image: want deskbot:<appVersion> (deskbot:0.1.0), got %s", c.Image)
	}
	if got := strings.Join(c.Args, " "); got != "serve --config /etc/deskbot/bot.yaml" {
		t.Errorf("args: %s", got)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 || c.Ports[0].Name != "http" {
		t.Errorf("ports: %+v", c.Ports)
	}

	// Probes.
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		want := "/healthz"
		if name == "readiness" {
			want = "/readyz"
		}
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want {
			t.Errorf("%s probe: want GET %s, got %+v", name, want, p)
		}
	}

	// Security context.
	pod := d.Spec.Template.Spec.SecurityContext
	sc := c.SecurityContext
	if pod == nil || sc == nil {
		t.Fatal("no security context")
	}
	if !ptrIs(sc.RunAsNonRoot, true) || !ptrIs(sc.RunAsUser, int64(10001)) || !ptrIs(sc.RunAsGroup, int64(10001)) {
		t.Errorf("container runs as %v/%v (non-root %v); want 10001/10001 non-root", deref(sc.RunAsUser), deref(sc.RunAsGroup), deref(sc.RunAsNonRoot))
	}
	if !ptrIs(pod.RunAsNonRoot, true) || !ptrIs(pod.RunAsUser, int64(10001)) || !ptrIs(pod.FSGroup, int64(10001)) {
		t.Errorf("pod security context: %+v", pod)
	}
	if !ptrIs(sc.ReadOnlyRootFilesystem, true) || !ptrIs(sc.AllowPrivilegeEscalation, false) {
		t.Errorf("read-only root %v, privilege escalation %v; want true, false", deref(sc.ReadOnlyRootFilesystem), deref(sc.AllowPrivilegeEscalation))
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities: %+v", sc.Capabilities)
	}
	for _, s := range []*corev1.SeccompProfile{sc.SeccompProfile, pod.SeccompProfile} {
		if s == nil || s.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("seccomp: %+v", s)
		}
	}
	if d.Spec.Template.Spec.AutomountServiceAccountToken == nil || *d.Spec.Template.Spec.AutomountServiceAccountToken {
		t.Error("the pods mount a service account token they never use")
	}

	// Writable places: emptyDirs at /tmp and /var/lib/deskbot; the
	// configuration is read-only.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	vols := map[string]corev1.Volume{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		vols[v.Name] = v
	}
	for _, p := range []string{"/tmp", "/var/lib/deskbot"} {
		m, ok := mounts[p]
		if !ok || m.ReadOnly || vols[m.Name].EmptyDir == nil {
			t.Errorf("%s: want a writable emptyDir, got %+v", p, m)
		}
	}
	if m := mounts["/etc/deskbot"]; !m.ReadOnly || vols[m.Name].ConfigMap == nil {
		t.Errorf("/etc/deskbot: want the ConfigMap read-only, got %+v", m)
	}

	// Resources.
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources: %+v", c.Resources)
	}

	// Secrets through the environment, under the contract's names.
	wantEnv := []string{"DESKBOT_STORE_DSN", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "DESKBOT_APPROVAL_KEY", "DESKBOT_AUDIT_KEY"}
	if got := envNames(c); !slices.Equal(got, wantEnv) {
		t.Errorf("env: want %v, got %v", wantEnv, got)
	}
	for _, e := range c.Env {
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "deskbot" {
			t.Errorf("%s: want it from the chart's Secret, got %+v", e.Name, e)
		}
	}

	// PodDisruptionBudget, Service, spread.
	pdb := find[*policyv1.PodDisruptionBudget](t, r)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget minAvailable: %v", pdb.Spec.MinAvailable)
	}
	svc := find[*corev1.Service](t, r)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].Port != 8080 {
		t.Errorf("service ports: %+v", svc.Spec.Ports)
	}
	spec := d.Spec.Template.Spec
	if len(spec.TopologySpreadConstraints) != 1 || spec.TopologySpreadConstraints[0].TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("topology spread: %+v", spec.TopologySpreadConstraints)
	}
	if spec.Affinity == nil || spec.Affinity.PodAntiAffinity == nil || len(spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("no anti-affinity across nodes: %+v", spec.Affinity)
	}
	if n := count[*monitoringv1.ServiceMonitor](r); n != 0 {
		t.Errorf("a ServiceMonitor without serviceMonitor.enabled")
	}
	if n := count[*networkingv1.Ingress](r); n != 0 {
		t.Errorf("an Ingress without ingress.enabled")
	}

	// bot.yaml: the contract's layout.
	cfg := botYAML(t, r)
	for path, want := range map[string]any{
		"listen":                   "0.0.0.0:8080",
		"data_dir":                 "/var/lib/deskbot",
		"policy":                   "/etc/deskbot/policy.yaml",
		"log.format":               "json",
		"store.driver":             "postgres",
		"store.dsn.env":            "DESKBOT_STORE_DSN",
		"approval_key.env":         "DESKBOT_APPROVAL_KEY",
		"audit_key.env":            "DESKBOT_AUDIT_KEY",
		"plugins.dir":              "/usr/local/lib/deskbot/plugins",
		"plugins.sums":             "/usr/local/lib/deskbot/plugins/SHA256SUMS",
		"slack.signing_secret.env": "SLACK_SIGNING_SECRET",
		"slack.bot_token.env":      "SLACK_BOT_TOKEN",
	} {
		if got := get(cfg, strings.Split(path, ".")...); got != want {
			t.Errorf("bot.yaml %s: want %v, got %v", path, want, got)
		}
	}
	if get(cfg, "slack", "app_token") != nil {
		t.Error("bot.yaml asks for an app token without Socket Mode")
	}
	if cm := find[*corev1.ConfigMap](t, r); cm.Data["policy.yaml"] != minimal()["policy"] {
		t.Errorf("policy.yaml: %q", cm.Data["policy.yaml"])
	}
	if !strings.Contains(r.notes, "rollout status deployment/deskbot") {
		t.Errorf("NOTES.txt: %s", r.notes)
	}
	// With no checkpoint sink, checkpoints land in an emptyDir: the notes say so.
	if !strings.Contains(r.notes, "WARNING: the audit log's signed checkpoints") {
		t.Errorf("NOTES.txt does not warn that checkpoints are lost with the pods: %s", r.notes)
	}
}

func ptrIs[T comparable](p *T, want T) bool { return p != nil && *p == want }

// deref shows a pointer's value in a message ("unset" for nil).
func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

func TestFullValues(t *testing.T) {
	r := render(t, fullValues(t))
	d := find[*appsv1.Deployment](t, r)
	c := container(t, d)
	if *d.Spec.Replicas != 3 || c.Image != "registry.example.net/support/deskbot:1.4.0" || c.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("replicas %d, image %s %s", *d.Spec.Replicas, c.Image, c.ImagePullPolicy)
	}

	// Existing Secrets: the chart refers to them under the keys given,
	// and keeps only the inline provider secret in a Secret of its own.
	refs := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			refs[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	// Socket Mode: Slack sends nothing over HTTP, so the signing secret is
	// neither asked for nor mounted (an existing Secret need not hold it).
	if _, ok := refs["SLACK_SIGNING_SECRET"]; ok {
		t.Error("SLACK_SIGNING_SECRET is mounted in Socket Mode")
	}
	for env, want := range map[string]string{
		"DESKBOT_STORE_DSN":      "deskbot-postgres/uri",
		"SLACK_BOT_TOKEN":        "deskbot-slack/bot",
		"SLACK_APP_TOKEN":        "deskbot-slack/app",
		"DESKBOT_APPROVAL_KEY":   "deskbot-slack/approvals",
		"DESKBOT_AUDIT_KEY":      "deskbot-slack/audit",
		"WHM_WEB01_TOKEN":        "whm-tokens/web01",
		"CLN_SECRET_KEY":         "cln/secret_key",
		"DESKBOT_AUDIT_KEY_2025": "deskbot-slack/audit-2025",
		"SIEM_TOKEN":             "support-bot/provider-SIEM_TOKEN",
	} {
		if refs[env] != want {
			t.Errorf("%s: want it from %s, got %q", env, want, refs[env])
		}
	}
	s := find[*corev1.Secret](t, r)
	if keys := slices.Sorted(maps.Keys(s.Data)); !slices.Equal(keys, []string{"provider-SIEM_TOKEN"}) {
		t.Errorf("the chart's Secret holds %v; want only the inline provider secret", keys)
	}
	if string(s.Data["provider-SIEM_TOKEN"]) != "not-a-real-siem-token" {
		t.Errorf("provider secret: %q", s.Data["provider-SIEM_TOKEN"])
	}

	// Socket Mode, providers, audit and the policy from a ConfigMap.
	cfg := botYAML(t, r)
	if get(cfg, "slack", "app_token", "env") != "SLACK_APP_TOKEN" || get(cfg, "slack", "approvals_channel") != "C0APPROVALS" || get(cfg, "slack", "signing_secret") != nil {
		t.Errorf("slack: %v", cfg["slack"])
	}
	if get(cfg, "policy") != "/etc/deskbot/policy/support-desk.yaml" {
		t.Errorf("policy path: %v", cfg["policy"])
	}
	if get(cfg, "approval_lease") != "45s" || get(cfg, "log", "format") != "text" || get(cfg, "audit", "checkpoints", "webhook", "token", "env") != "SIEM_TOKEN" {
		t.Errorf("bot.yaml: %v", cfg)
	}
	list, _ := get(cfg, "plugins", "list").([]any)
	if len(list) != 2 || get(list[0].(map[string]any), "name") != "whm" {
		t.Fatalf("plugins.list: %v", list)
	}
	if tg := list[0].(map[string]any)["targets"].([]any)[0].(map[string]any); get(tg, "secrets", "token", "env") != "WHM_WEB01_TOKEN" {
		t.Errorf("whm target: %v", tg)
	}
	var policyVol *corev1.Volume
	for i, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == "deskbot-policy" {
			policyVol = &d.Spec.Template.Spec.Volumes[i]
		}
	}
	if policyVol == nil {
		t.Error("the existing policy ConfigMap is not mounted")
	}
	if _, ok := find[*corev1.ConfigMap](t, r).Data["policy.yaml"]; ok {
		t.Error("the chart's ConfigMap carries a policy besides the existing one")
	}

	// ServiceMonitor, Ingress, PDB, scheduling.
	sm := find[*monitoringv1.ServiceMonitor](t, r)
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" ||
		string(sm.Spec.Endpoints[0].Interval) != "15s" || sm.Labels["release"] != "prometheus" {
		t.Errorf("ServiceMonitor: %+v", sm.Spec)
	}
	svc := find[*corev1.Service](t, r)
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s; the Service has %v", k, v, svc.Labels)
		}
	}
	ing := find[*networkingv1.Ingress](t, r)
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "deskbot.example.net" ||
		ing.Spec.Rules[0].HTTP.Paths[0].Path != "/slack/" || ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != svc.Name {
		t.Errorf("Ingress: %+v", ing.Spec)
	}
	if pdb := find[*policyv1.PodDisruptionBudget](t, r); pdb.Spec.MinAvailable.IntValue() != 2 {
		t.Errorf("PodDisruptionBudget: %v", pdb.Spec.MinAvailable)
	}
	spec := d.Spec.Template.Spec
	if len(spec.TopologySpreadConstraints) != 2 || spec.TopologySpreadConstraints[0].WhenUnsatisfiable != corev1.DoNotSchedule {
		t.Errorf("topology spread: %+v", spec.TopologySpreadConstraints)
	}
	if spec.Affinity.NodeAffinity == nil || spec.Affinity.PodAntiAffinity != nil {
		t.Errorf("affinity from values should replace the default: %+v", spec.Affinity)
	}
	if !strings.Contains(r.notes, "Socket Mode") {
		t.Errorf("NOTES.txt: %s", r.notes)
	}
	if strings.Contains(r.notes, "WARNING: the audit log's signed checkpoints") {
		t.Errorf("NOTES.txt warns about checkpoints although a webhook takes them: %s", r.notes)
	}
}

func TestChecksumRollsPods(t *testing.T) {
	checksum := func(vals map[string]any) string {
		d := find[*appsv1.Deployment](t, render(t, vals))
		sum := d.Spec.Template.Annotations["checksum/config"]
		if len(sum) != 64 {
			t.Fatalf("checksum/config: %q", sum)
		}
		return sum
	}
	base := checksum(minimal())
	if again := checksum(minimal()); again != base {
		t.Fatalf("the same values give another checksum (%s, %s): every upgrade would roll the pods", base, again)
	}
	for name, change := range map[string]func(v map[string]any){
		"policy":       func(v map[string]any) { v["policy"] = "version: 1\nusers:\n  dan: U0DAN0001\n" },
		"bot.yaml":     func(v map[string]any) { v["log"] = map[string]any{"level": "debug", "format": "json"} },
		"chart secret": func(v map[string]any) { v["secrets"].(map[string]any)["slackBotToken"] = "xoxb-rotated" },
	} {
		v := minimal()
		change(v)
		if checksum(v) == base {
			t.Errorf("changing the %s leaves checksum/config as it was: the pods would keep the old one", name)
		}
	}
}

func TestNoSecretOutsideSecrets(t *testing.T) {
	vals := minimal()
	vals["slack"] = map[string]any{"socketMode": true}
	vals["secrets"].(map[string]any)["slackAppToken"] = canaryApp
	vals["providerSecrets"] = map[string]any{"WHM_WEB01_TOKEN": canaryProvider}
	vals["serviceMonitor"] = map[string]any{"enabled": true}
	r := render(t, vals)
	canaries := []string{canaryDSN, canarySigning, canaryBot, canaryApp, canaryApproval, canaryAudit, canaryProvider}
	for key, doc := range r.docs {
		if strings.HasPrefix(key, "Secret/") {
			continue
		}
		for _, c := range canaries {
			if strings.Contains(doc, c) || strings.Contains(doc, base64.StdEncoding.EncodeToString([]byte(c))) {
				t.Errorf("%s carries the secret %q", key, c)
			}
		}
	}
	for _, c := range canaries {
		if strings.Contains(r.notes, c) {
			t.Errorf("NOTES.txt carries the secret %q", c)
		}
	}
	// The canaries are real: the Secret holds each of them.
	s := find[*corev1.Secret](t, r)
	var all bytes.Buffer
	for _, v := range s.Data {
		all.Write(v)
		all.WriteByte('\n')
	}
	for _, c := range canaries {
		if !strings.Contains(all.String(), c) {
			t.Errorf("the chart's Secret lacks %q", c)
		}
	}
}

func TestConfigOverride(t *testing.T) {
	vals := minimal()
	own := "# ours\ndata_dir: /var/lib/deskbot\nstore:\n  driver: postgres\n  dsn: {env: DESKBOT_STORE_DSN}\n"
	vals["config"] = own
	r := render(t, vals)
	if got := find[*corev1.ConfigMap](t, r).Data["bot.yaml"]; got != own {
		t.Errorf("bot.yaml: want the config value verbatim, got\n%s", got)
	}
}

// TestBadValues: values a release cannot run with are refused with a
// message that names what to set, and nothing is rendered.
func TestBadValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(v map[string]any)
		want   string
	}{
		{"no dsn", func(v map[string]any) { delete(v, "postgres") }, "postgres.dsn is required"},
		{"no signing secret", func(v map[string]any) { delete(v["secrets"].(map[string]any), "slackSigningSecret") }, "secrets.slackSigningSecret is required"},
		{"no audit key", func(v map[string]any) { delete(v["secrets"].(map[string]any), "auditKey") }, "secrets.auditKey is required"},
		{"socket mode without app token", func(v map[string]any) { v["slack"] = map[string]any{"socketMode": true} }, "secrets.slackAppToken is required with slack.socketMode"},
		{"no policy", func(v map[string]any) { delete(v, "policy") }, "policy is required"},
		{"two policies", func(v map[string]any) { v["policyExistingConfigMap"] = map[string]any{"name": "p"} }, "either policy or policyExistingConfigMap.name"},
		{"log format", func(v map[string]any) { v["log"] = map[string]any{"format": "xml"} }, `log.format "xml": want json or text`},
		{"provider ref", func(v map[string]any) { v["providerSecretRefs"] = map[string]any{"WHM_TOKEN": "whm"} }, "providerSecretRefs.WHM_TOKEN: want {name: SECRET, key: KEY}"},
		{"provider env name", func(v map[string]any) { v["providerSecrets"] = map[string]any{"whm-token": "x"} }, `provider secret "whm-token": not an environment variable name`},
		{"ingress without hosts", func(v map[string]any) { v["ingress"] = map[string]any{"enabled": true} }, "ingress.hosts is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := minimal()
			tc.change(v)
			r, err := tryRender(v)
			if err == nil {
				t.Fatalf("rendered %d objects; want the error %q", len(r.objects), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q; want it to say %q", err, tc.want)
			}
			for _, c := range []string{canaryDSN, canarySigning, canaryBot, canaryApproval, canaryAudit} {
				if strings.Contains(err.Error(), c) {
					t.Errorf("the error shows the secret %q", c)
				}
			}
		})
	}
}

// TestStrictDecodingRefuses shows the validator is not a sieve: a
// misspelt field or a wrong type in a manifest is an error.
func TestStrictDecodingRefuses(t *testing.T) {
	valid := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: support}\ndata: {a: b}\n"
	if _, err := decodeStrict([]byte(valid)); err != nil {
		t.Fatalf("a valid ConfigMap: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":   "apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: support}\nspec: {ports: [{port: 80, targetPrt: http}]}\n",
		"wrong type":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: support}\nspec: {replicas: two}\n",
		"duplicate field": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: support}\ndata: {a: b}\ndata: {c: d}\n",
		"bad name":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Name, namespace: support}\n",
		"bad label":       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: support, labels: {a: 'not a label value!'}}\n",
		"monitor field":   "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x, namespace: support}\nspec: {selector: {}, endpoints: [{prot: http}]}\n",
	} {
		if _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
