{{/*
Names and labels.
*/}}
{{- define "authgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "authgate.fullname" -}}
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

{{- define "authgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "authgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "authgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "authgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Where the container reads things. The config directory is the ConfigMap
mount (no subPath, so updates reach the pod); nothing else is mounted below
it.
*/}}
{{- define "authgate.keyDir" -}}/var/run/secrets/authgate/keys{{- end }}
{{- define "authgate.dbDir" -}}/var/run/secrets/authgate/db{{- end }}
{{- define "authgate.dataDir" -}}/var/lib/authgate{{- end }}

{{/*
Whether authgate signs its own tokens with a key file from a Secret.
*/}}
{{- define "authgate.usesKey" -}}
{{- $t := .Values.config.tokens }}
{{- if and $t (not (hasKey $t "hmac_secret")) (not (hasKey $t "hmac_secret_file")) }}true{{ end }}
{{- end }}

{{- define "authgate.keySecret" -}}
{{- .Values.signingKey.existingSecret | default (printf "%s-keys" (include "authgate.fullname" .)) }}
{{- end }}

{{/*
authgate's config.yaml: config with the keys the chart owns filled in.
*/}}
{{- define "authgate.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- range $k := list "listen" "admin_listen" "store" }}
{{- if hasKey $cfg $k }}
{{- fail (printf "config.%s is set by the chart: remove it (the store comes from store.type)" $k) }}
{{- end }}
{{- end }}
{{- $_ := set $cfg "listen" "0.0.0.0:8000" }}
{{- $_ = set $cfg "admin_listen" "0.0.0.0:9191" }}
{{- if include "authgate.usesKey" . }}
{{- $t := $cfg.tokens }}
{{- if not (hasKey $t "signing_key") }}
{{- $_ = set $t "signing_key" (printf "%s/signing-key.pem" (include "authgate.keyDir" .)) }}
{{- end }}
{{- end }}
{{- if eq .Values.store.type "sqlite" }}
{{- $_ = set $cfg "store" (printf "sqlite:%s/authgate.db" (include "authgate.dataDir" .)) }}
{{- else if eq .Values.store.type "postgres" }}
{{- $pg := .Values.store.postgres }}
{{- if $pg.urlSecret.name }}
{{- $_ = set $cfg "store" "${AUTHGATE_STORE_URL}" }}
{{- else if $pg.url }}
{{- $_ = set $cfg "store" $pg.url }}
{{- else }}
{{- fail "store.type postgres needs store.postgres.url or store.postgres.urlSecret.name" }}
{{- end }}
{{- if $pg.passwordSecret }}
{{- $p := $cfg.postgres | default dict }}
{{- $_ = set $p "password_file" (printf "%s/password" (include "authgate.dbDir" .)) }}
{{- $_ = set $cfg "postgres" $p }}
{{- end }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/*
Every identity header authgate may answer with: X-Auth-Token, the
identity_headers (authgate's defaults when absent) and every issuer's
claim_headers. A forward-auth peer must copy all of them.
*/}}
{{- define "authgate.identityHeaders" -}}
{{- $hs := list "X-Auth-Token" }}
{{- $ih := .Values.config.identity_headers | default (dict "X-Auth-Subject" "sub" "X-Auth-Username" "preferred_username" "X-Auth-Email" "email" "X-Auth-Roles" "roles") }}
{{- range $h, $_ := $ih }}{{ $hs = append $hs $h }}{{ end }}
{{- range $is := .Values.config.issuers | default list }}
{{- range $h, $_ := $is.claim_headers | default dict }}{{ $hs = append $hs $h }}{{ end }}
{{- end }}
{{- $hs | uniq | sortAlpha | join "," }}
{{- end }}

{{/*
The address a forward-auth peer asks: the Service in the release's
namespace.
*/}}
{{- define "authgate.decisionURL" -}}
http://{{ include "authgate.fullname" . }}.{{ .Release.Namespace }}.svc.cluster.local:{{ .Values.service.port }}
{{- end }}

{{/*
Sanity checks that values.schema.json cannot express.
*/}}
{{- define "authgate.validate" -}}
{{- if and (eq .Values.store.type "sqlite") (gt (int .Values.replicaCount) 1) }}
{{- fail "store.type sqlite keeps accounts in one file that one replica opens: set replicaCount 1, or store.type postgres" }}
{{- end }}
{{- if and (eq .Values.mode "sidecar") (not .Values.sidecar.app.image) }}
{{- fail "mode sidecar needs sidecar.app (a container spec with at least image)" }}
{{- end }}
{{- if and (include "authgate.usesKey" .) (not .Values.signingKey.existingSecret) (not .Values.signingKey.generate) }}
{{- fail "config.tokens needs a signing key: set signingKey.existingSecret, or signingKey.generate true" }}
{{- end }}
{{- end }}

{{/*
The annotations an Ingress needs to be checked by authgate (mode
ingress-nginx): ingress-nginx sends GET /auth/verify with X-Original-URL and
X-Original-Method, and copies every identity header from the answer,
replacing whatever the client sent.
*/}}
{{- define "authgate.nginxAnnotations" -}}
nginx.ingress.kubernetes.io/auth-url: {{ printf "%s/auth/verify" (include "authgate.decisionURL" .) | quote }}
nginx.ingress.kubernetes.io/auth-response-headers: {{ include "authgate.identityHeaders" . | quote }}
{{- with .Values.ingressNginx.ingress.signinURL }}
nginx.ingress.kubernetes.io/auth-signin: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
A digest of the config keys authgate reads at start only (store and
postgres; listen and admin_listen are fixed by the chart): a pod annotation,
so that changing them rolls the pods while every other config change reloads
in place.
*/}}
{{- define "authgate.restartDigest" -}}
{{- $cfg := include "authgate.config" . | fromYaml }}
{{- pick $cfg "store" "postgres" | toJson | sha256sum }}
{{- end }}
