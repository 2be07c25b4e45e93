{{/* STAND-IN: the upstream naming rules (fullname = release when it contains the chart name). */}}
{{- define "kps.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 26 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kps.labels" -}}
release: {{ .Release.Name | quote }}
heritage: {{ .Release.Service | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: kube-prometheus-stack
chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
eks-llm/stand-in: "true"
{{- end -}}

{{/* Prometheus' label selectors, as upstream renders them: the value when set, else release=<release> when
     NilUsesHelmValues, else {} (everything). */}}
{{- define "kps.selector" -}}
{{- $selector := index . 0 -}}{{- $nilUsesHelm := index . 1 -}}{{- $release := index . 2 -}}
{{- if $selector }}
{{ toYaml $selector }}
{{- else if $nilUsesHelm }}
matchLabels:
  release: {{ $release | quote }}
{{- else }}
{}
{{- end }}
{{- end -}}
