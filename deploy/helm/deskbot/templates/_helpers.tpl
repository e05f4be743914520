{{/* The chart name, or nameOverride. */}}
{{- define "deskbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' name: release-chart, or fullnameOverride. */}}
{{- define "deskbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "deskbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "deskbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "deskbot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "deskbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "deskbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "deskbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the chart creates for the values given inline. */}}
{{- define "deskbot.secretName" -}}
{{- include "deskbot.fullname" . }}
{{- end }}

{{/* Does the chart create a Secret (any secret given inline)? */}}
{{- define "deskbot.createSecret" -}}
{{- if or (not .Values.postgres.existingSecret) (not .Values.secrets.existingSecret) .Values.providerSecrets }}true{{ end }}
{{- end }}

{{/* The Secret and key of the Slack secrets and keys. */}}
{{- define "deskbot.secretsSecret" -}}
{{- .Values.secrets.existingSecret | default (include "deskbot.secretName" .) }}
{{- end }}

{{/* Where the policy is mounted, when it comes from an existing ConfigMap. */}}
{{- define "deskbot.policyPath" -}}
{{- if .Values.policyExistingConfigMap.name -}}
/etc/deskbot/policy/{{ .Values.policyExistingConfigMap.key }}
{{- else -}}
/etc/deskbot/policy.yaml
{{- end }}
{{- end }}

{{/* Values a render cannot do without, with messages that say what to set. */}}
{{- define "deskbot.validate" -}}
{{- if not .Values.postgres.existingSecret }}
{{- $_ := required "postgres.dsn is required: set the PostgreSQL connection string, or postgres.existingSecret to a Secret holding it" .Values.postgres.dsn }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- if not .Values.slack.socketMode }}
{{- $_ := required "secrets.slackSigningSecret is required without Socket Mode (or secrets.existingSecret)" .Values.secrets.slackSigningSecret }}
{{- end }}
{{- $_ := required "secrets.slackBotToken is required (or secrets.existingSecret)" .Values.secrets.slackBotToken }}
{{- $_ := required "secrets.approvalKey is required: the replicas share it (or secrets.existingSecret)" .Values.secrets.approvalKey }}
{{- $_ := required "secrets.auditKey is required: the replicas share it (or secrets.existingSecret)" .Values.secrets.auditKey }}
{{- if .Values.slack.socketMode }}
{{- $_ := required "secrets.slackAppToken is required with slack.socketMode (or secrets.existingSecret)" .Values.secrets.slackAppToken }}
{{- end }}
{{- end }}
{{- if not (or .Values.policy .Values.policyExistingConfigMap.name .Values.config) }}
{{- fail "policy is required: set policy to the RBAC policy (a YAML string) or policyExistingConfigMap.name to a ConfigMap holding it" }}
{{- end }}
{{- if and .Values.policy .Values.policyExistingConfigMap.name }}
{{- fail "set either policy or policyExistingConfigMap.name, not both" }}
{{- end }}
{{- if not (has .Values.log.format (list "json" "text")) }}
{{- fail (printf "log.format %q: want json or text" .Values.log.format) }}
{{- end }}
{{- range $env, $ref := .Values.providerSecretRefs }}
{{- if not (and (kindIs "map" $ref) $ref.name $ref.key) }}
{{- fail (printf "providerSecretRefs.%s: want {name: SECRET, key: KEY}" $env) }}
{{- end }}
{{- end }}
{{- range $env, $_ := merge (dict) .Values.providerSecrets .Values.providerSecretRefs }}
{{- if not (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" $env) }}
{{- fail (printf "provider secret %q: not an environment variable name" $env) }}
{{- end }}
{{- end }}
{{- end }}

{{/* bot.yaml as the chart renders it. */}}
{{- define "deskbot.botYAML" -}}
{{- $cfg := dict
  "listen" "0.0.0.0:8080"
  "data_dir" "/var/lib/deskbot"
  "policy" (include "deskbot.policyPath" .)
  "log" (dict "level" .Values.log.level "format" .Values.log.format)
  "store" (dict "driver" "postgres" "dsn" (dict "env" "DESKBOT_STORE_DSN"))
  "approval_key" (dict "env" "DESKBOT_APPROVAL_KEY")
  "audit_key" (dict "env" "DESKBOT_AUDIT_KEY")
  "plugins" (dict "dir" "/usr/local/lib/deskbot/plugins" "sums" "/usr/local/lib/deskbot/plugins/SHA256SUMS" "list" .Values.providers)
}}
{{- $slack := dict "bot_token" (dict "env" "SLACK_BOT_TOKEN") }}
{{- if .Values.slack.socketMode }}
{{- $_ := set $slack "app_token" (dict "env" "SLACK_APP_TOKEN") }}
{{- else }}
{{- $_ := set $slack "signing_secret" (dict "env" "SLACK_SIGNING_SECRET") }}
{{- end }}
{{- if .Values.slack.approvalsChannel }}
{{- $_ := set $slack "approvals_channel" .Values.slack.approvalsChannel }}
{{- end }}
{{- $_ := set $cfg "slack" $slack }}
{{- if .Values.approvalLease }}
{{- $_ := set $cfg "approval_lease" .Values.approvalLease }}
{{- end }}
{{- if .Values.audit }}
{{- $_ := set $cfg "audit" .Values.audit }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
