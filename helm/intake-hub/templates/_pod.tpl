{{/*
The pod template of every role: dict "root" . "role" intake|processor|all "r" <role values>
"component" <label>. One container, the hub; code read-only, writable paths are volumes only.
*/}}
{{- define "intake-hub.podTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $r := .r -}}
{{- $probeTLS := ternary $v.tls.intake.secretName $v.tls.admin.secretName (eq $r.probePort "intake") -}}
metadata:
  labels:
    {{- include "intake-hub.labels" (dict "root" $root "component" .component) | nindent 4 }}
  annotations:
    {{- if not $v.demo.enabled }}
    checksum/config: {{ include "intake-hub.hubConfig" $root | sha256sum }}
    {{- end }}
    {{- with $r.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "intake-hub.serviceAccountName" $root }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  terminationGracePeriodSeconds: {{ $r.terminationGracePeriodSeconds }}
  containers:
    - name: intake-hub
      image: {{ include "intake-hub.image" $root | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args:
        - start
        {{- if not $v.demo.enabled }}
        - --config
        - /etc/intake-hub/config/hub.yaml
        {{- end }}
        - --role
        - {{ .role }}
        - --instance-id
        - $(POD_NAME)
        {{- range $r.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        - name: POD_NAME
          valueFrom: { fieldRef: { fieldPath: metadata.name } }
        - name: POD_NAMESPACE
          valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
        - name: NODE_OPTIONS
          value: {{ printf "--max-old-space-size=%d" (int $r.maxOldSpaceMiB) | quote }}
        - name: LOG_LEVEL
          value: {{ $v.logLevel | quote }}
        {{- if not $v.demo.enabled }}
        - name: HUB_TOKEN_SECRET
          valueFrom:
            secretKeyRef: { name: {{ $v.secrets.tokenSecret.name | quote }}, key: {{ $v.secrets.tokenSecret.key | quote }} }
        {{- end }}
        {{- if $v.secrets.adminTokens.name }}
        - name: HUB_ADMIN_TOKENS_FILE
          value: {{ printf "/etc/intake-hub/admin-tokens/%s" $v.secrets.adminTokens.key | quote }}
        {{- end }}
        {{- if $v.existingConfigSecret.name }}
        - name: PORT
          value: {{ $v.ports.intake | quote }}
        - name: ADMIN_PORT
          value: {{ $v.ports.admin | quote }}
        {{- if $v.kafka.brokers }}
        - name: KAFKA_BROKERS
          value: {{ join "," $v.kafka.brokers | quote }}
        {{- end }}
        {{- end }}
        {{- range $v.secrets.env }}
        - name: {{ .name }}
          valueFrom:
            secretKeyRef: { name: {{ .secretName | quote }}, key: {{ .key | quote }} }
        {{- end }}
        {{- with $v.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        {{- if ne .role "processor" }}
        - { name: intake, containerPort: {{ $v.ports.intake }}, protocol: TCP }
        {{- end }}
        - { name: admin, containerPort: {{ $v.ports.admin }}, protocol: TCP }
      startupProbe:
        httpGet: { path: /healthz, port: {{ $r.probePort }}, scheme: {{ ternary "HTTPS" "HTTP" (ne $probeTLS "") }} }
        {{- toYaml $v.probes.startup | nindent 8 }}
      livenessProbe:
        httpGet: { path: /healthz, port: {{ $r.probePort }}, scheme: {{ ternary "HTTPS" "HTTP" (ne $probeTLS "") }} }
        {{- toYaml $v.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet: { path: /readyz, port: {{ $r.probePort }}, scheme: {{ ternary "HTTPS" "HTTP" (ne $probeTLS "") }} }
        {{- toYaml $v.probes.readiness | nindent 8 }}
      {{- if eq .role "intake" }}
      lifecycle:
        # let the Service endpoints drop this pod before the listener closes
        preStop:
          exec: { command: ["sleep", "5"] }
      {{- end }}
      resources:
        {{- toYaml $r.resources | nindent 8 }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        {{- if not $v.demo.enabled }}
        - { name: config, mountPath: /etc/intake-hub/config, readOnly: true }
        {{- end }}
        - { name: data, mountPath: /var/lib/intake-hub }
        - { name: tmp, mountPath: /tmp }
        {{- if $v.secrets.adminTokens.name }}
        - { name: admin-tokens, mountPath: /etc/intake-hub/admin-tokens, readOnly: true }
        {{- end }}
        {{- if $v.tls.intake.secretName }}
        - { name: tls-intake, mountPath: /etc/intake-hub/tls/intake, readOnly: true }
        {{- end }}
        {{- if $v.tls.admin.secretName }}
        - { name: tls-admin, mountPath: /etc/intake-hub/tls/admin, readOnly: true }
        {{- end }}
        {{- range $i, $f := $v.secrets.files }}
        - { name: {{ printf "secret-%d" $i }}, mountPath: {{ $f.mountPath | quote }}, readOnly: true }
        {{- end }}
  volumes:
    {{- if not $v.demo.enabled }}
    - name: config
      {{- if $v.existingConfigSecret.name }}
      secret:
        secretName: {{ $v.existingConfigSecret.name | quote }}
        items: [{ key: {{ $v.existingConfigSecret.key | quote }}, path: hub.yaml }]
      {{- else }}
      configMap:
        name: {{ include "intake-hub.fullname" $root }}-config
      {{- end }}
    {{- end }}
    {{- if not .persistent }}
    - name: data
      emptyDir: { sizeLimit: 1Gi }
    {{- end }}
    - name: tmp
      emptyDir: { sizeLimit: 256Mi }
    {{- if $v.secrets.adminTokens.name }}
    - name: admin-tokens
      secret: { secretName: {{ $v.secrets.adminTokens.name | quote }} }
    {{- end }}
    {{- if $v.tls.intake.secretName }}
    - name: tls-intake
      secret: { secretName: {{ $v.tls.intake.secretName | quote }} }
    {{- end }}
    {{- if $v.tls.admin.secretName }}
    - name: tls-admin
      secret: { secretName: {{ $v.tls.admin.secretName | quote }} }
    {{- end }}
    {{- range $i, $f := $v.secrets.files }}
    - name: {{ printf "secret-%d" $i }}
      secret: { secretName: {{ $f.secretName | quote }} }
    {{- end }}
  {{- with $r.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $r.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $r.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if hasKey $r "topologySpreadConstraints" }}
  topologySpreadConstraints:
    {{- if $r.topologySpreadConstraints }}
    {{- toYaml $r.topologySpreadConstraints | nindent 4 }}
    {{- else }}
    # spread replicas over nodes when the scheduler can
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "intake-hub.selectorLabels" (dict "root" $root "component" .component) | nindent 10 }}
    {{- end }}
  {{- end }}
{{- end -}}
