{{- define "nim-llm.fullname" -}}
{{- default (printf "%s-nim-llm" .Release.Name) .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "nim-llm.selectorLabels" -}}
app.kubernetes.io/name: nim-llm
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "nim-llm.probe" -}}
httpGet:
  path: {{ .path }}
  port: http-openai
initialDelaySeconds: {{ .initialDelaySeconds | default 0 }}
periodSeconds: {{ .periodSeconds | default 10 }}
timeoutSeconds: {{ .timeoutSeconds | default 1 }}
failureThreshold: {{ .failureThreshold | default 3 }}
successThreshold: {{ .successThreshold | default 1 }}
{{- end -}}
