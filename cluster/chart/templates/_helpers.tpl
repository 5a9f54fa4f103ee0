{{- define "proof.labels" -}}
app.kubernetes.io/name: proof
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The sidecar proxy (named like the real one so zdrender recognises it). */}}
{{- define "proof.proxy" -}}
- name: cloud-sql-proxy
  image: {{ .Values.image }}
  imagePullPolicy: Never
  command: [/proxy]
  env:
    - name: LISTEN
      value: "127.0.0.1:15432"
    - name: UPSTREAM_SERVICE
      value: {{ printf "%s-backend" .Release.Name | quote }}
{{- end }}
