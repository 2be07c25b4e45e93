{{/* STAND-IN: upstream's naming and label rules (instance is the namespace, as upstream has it). */}}
{{- define "aws-for-fluent-bit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aws-for-fluent-bit.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "aws-for-fluent-bit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aws-for-fluent-bit.name" . }}
app.kubernetes.io/instance: {{ .Release.Namespace }}
{{- end -}}

{{- define "aws-for-fluent-bit.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "aws-for-fluent-bit.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
eks-llm/stand-in: "true"
{{- end -}}

{{- define "aws-for-fluent-bit.serviceAccountName" -}}
{{ default (include "aws-for-fluent-bit.fullname" .) .Values.serviceAccount.name }}
{{- end -}}
