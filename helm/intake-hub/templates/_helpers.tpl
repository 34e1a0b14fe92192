{{/* Names and labels. */}}
{{- define "intake-hub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* 40 characters at most: "<fullname>-processor" stays a valid StatefulSet name (52). */}}
{{- define "intake-hub.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "intake-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "intake-hub.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "intake-hub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "intake-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: intake-hub
{{- end -}}

{{/* Labels of every hub pod of the release, whatever its role (metrics, NetworkPolicy). */}}
{{- define "intake-hub.releasePodLabels" -}}
app.kubernetes.io/name: {{ include "intake-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "intake-hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "intake-hub.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "intake-hub.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The generated hub.yaml: listeners on all interfaces (the pod network; NetworkPolicy and Services
decide who reaches them), TLS files when their Secrets are set, the output (Kafka with brokers,
else the embedded log in the data volume), the connectors, then `config` merged over it.
*/}}
{{- define "intake-hub.hubConfig" -}}
{{- $server := dict "host" "0.0.0.0" "port" (int .Values.ports.intake) -}}
{{- if .Values.tls.intake.secretName -}}
{{- $_ := set $server "tls" (dict "certFile" "/etc/intake-hub/tls/intake/tls.crt" "keyFile" "/etc/intake-hub/tls/intake/tls.key") -}}
{{- end -}}
{{- $admin := dict "host" "0.0.0.0" "port" (int .Values.ports.admin) -}}
{{- if .Values.tls.admin.secretName -}}
{{- $_ := set $admin "tls" (dict "certFile" "/etc/intake-hub/tls/admin/tls.crt" "keyFile" "/etc/intake-hub/tls/admin/tls.key") -}}
{{- end -}}
{{- $output := dict "type" "embedded" "embedded" (dict "dir" "/var/lib/intake-hub/embedded") -}}
{{- if .Values.kafka.brokers -}}
{{- $output = dict "type" "kafka" "kafka" (dict "brokers" .Values.kafka.brokers "partitions" (int .Values.kafka.partitions) "replicationFactor" (int .Values.kafka.replicationFactor)) -}}
{{- end -}}
{{- $hub := dict "server" $server "admin" $admin "output" $output -}}
{{- if .Values.connectors -}}
{{- $_ := set $hub "connectors" .Values.connectors -}}
{{- end -}}
{{- toYaml (mergeOverwrite $hub (deepCopy .Values.config)) -}}
{{- end -}}

{{/* Fails the render on settings that would be unsafe or cannot work. */}}
{{- define "intake-hub.validate" -}}
{{- $v := .Values -}}
{{- if and (eq $v.mode "fleet") (not $v.kafka.brokers) -}}
{{- fail "mode fleet needs kafka.brokers (the intake and processor roles talk through Kafka); for one pod without Kafka use mode: single" -}}
{{- end -}}
{{- if $v.demo.enabled -}}
{{- if ne $v.mode "single" -}}{{- fail "demo.enabled runs the simulated channels in one pod: it needs mode: single" -}}{{- end -}}
{{- if $v.kafka.brokers -}}{{- fail "demo.enabled never runs against Kafka (its simulated traffic and demo secrets must not reach a real cluster): leave kafka.brokers empty" -}}{{- end -}}
{{- else -}}
{{- if not $v.secrets.tokenSecret.name -}}
{{- fail "secrets.tokenSecret.name is required: a Secret holding the HMAC key of reporter contact tokens (kubectl create secret generic intake-hub --from-literal=token-secret=\"$(openssl rand -base64 32)\"); the chart has no default secret" -}}
{{- end -}}
{{- end -}}
{{- if eq $v.mode "fleet" -}}
{{- if gt (int $v.processor.replicas) (int $v.kafka.partitions) -}}
{{- fail (printf "processor.replicas (%d) > kafka.partitions (%d): a processor without a partition sits idle; raise the partitions (before the topics exist) or lower the replicas" (int $v.processor.replicas) (int $v.kafka.partitions)) -}}
{{- end -}}
{{- if and $v.processor.autoscaling.enabled (gt (int $v.processor.autoscaling.maxReplicas) (int $v.kafka.partitions)) -}}
{{- fail (printf "processor.autoscaling.maxReplicas (%d) > kafka.partitions (%d)" (int $v.processor.autoscaling.maxReplicas) (int $v.kafka.partitions)) -}}
{{- end -}}
{{- range $role := list "intake" "processor" -}}
{{- $r := index $v $role -}}
{{- if and $r.autoscaling.enabled (gt (int $r.autoscaling.minReplicas) (int $r.autoscaling.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling.minReplicas > maxReplicas" $role) -}}
{{- end -}}
{{- end -}}
{{- $intakeMin := ternary $v.intake.autoscaling.minReplicas $v.intake.replicas $v.intake.autoscaling.enabled -}}
{{- if and $v.intake.pdb.enabled (ge (int $v.intake.pdb.minAvailable) (int $intakeMin)) -}}
{{- fail (printf "intake.pdb.minAvailable (%d) must be below the intake replicas (%d), or no node could ever be drained" (int $v.intake.pdb.minAvailable) (int $intakeMin)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.existingConfigSecret.name (or $v.config $v.connectors) -}}
{{- fail "existingConfigSecret replaces the generated hub.yaml: leave config and connectors empty (put them in that Secret)" -}}
{{- end -}}
{{- if not $v.allowSecretsInConfig -}}
{{- $connectors := concat ($v.connectors | default list) (dig "connectors" list $v.config) -}}
{{- range $i, $c := $connectors -}}
{{- if dig "config" "secrets" nil $c -}}
{{- fail (printf "connector %q: signing secrets in values would be rendered into a ConfigMap; use existingConfigSecret (hub.yaml in a Secret) or set allowSecretsInConfig: true knowingly" (toString (get $c "id"))) -}}
{{- end -}}
{{- end -}}
{{- if dig "pii" "tokenSecret" nil $v.config -}}
{{- fail "config.pii.tokenSecret: the token secret comes from secrets.tokenSecret (a Secret), never from values" -}}
{{- end -}}
{{- if dig "pii" "rawKeys" nil $v.config -}}
{{- fail "config.pii.rawKeys are keys: use existingConfigSecret, or allowSecretsInConfig: true knowingly" -}}
{{- end -}}
{{- end -}}
{{- if and $v.metrics.serviceMonitor.enabled (not $v.metrics.serviceMonitor.bearerTokenSecret.name) -}}
{{- fail "metrics.serviceMonitor needs bearerTokenSecret.name: /metrics is on the admin listener and answers 401 without a viewer token" -}}
{{- end -}}
{{- end -}}
