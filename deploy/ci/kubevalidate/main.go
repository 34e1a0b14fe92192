// kubevalidate checks rendered Kubernetes manifests offline, against the API types themselves
// (k8s.io/api and the prometheus-operator types, compiled in), because kubeconform cannot
// download its JSON schemas here.
//
//	helm template ... | kubevalidate [-policy] [-]
//	kubevalidate [-policy] FILE...
//
// Every document must be a kind compiled in below, and must decode strictly: an unknown field, a
// duplicate field, a wrong type or an unparsable quantity is an error. On top of the types it
// checks what the apiserver would refuse and the types do not say (names, labels, selectors that
// match their pod templates, ports and volumes that exist, references between the rendered
// objects). With -policy it also enforces the chart's own rules: every container runs as
// non-root on a read-only root filesystem with all capabilities dropped, has resources and
// probes, and no Secret is rendered.
//
// This is not the apiserver's full validation (that code lives in k8s.io/kubernetes and works
// on internal types); it is the part that can be checked from the public types offline.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

type object struct {
	where string
	obj   runtime.Object
	meta  metav1.Object
	kind  string
}

type podOwner struct {
	name     string
	kind     string
	selector *metav1.LabelSelector
	template *corev1.PodTemplateSpec
	claims   []string // volumeClaimTemplates of a StatefulSet
}

type checker struct {
	policy bool
	errs   []string
}

func (c *checker) errf(where, format string, args ...any) {
	c.errs = append(c.errs, where+": "+fmt.Sprintf(format, args...))
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, autoscalingv2.AddToScheme, policyv1.AddToScheme,
		networkingv1.AddToScheme, monitoringv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

func main() {
	policy := flag.Bool("policy", false, "enforce the chart's security and operability rules")
	flag.Parse()
	inputs := flag.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	scheme := newScheme()
	decoder := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	c := &checker{policy: *policy}
	var objects []object
	for _, in := range inputs {
		var r io.Reader = os.Stdin
		if in != "-" {
			f, err := os.Open(in)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			defer f.Close()
			r = f
		}
		objects = append(objects, c.decodeAll(in, r, decoder)...)
	}
	c.checkAll(objects)
	if len(c.errs) > 0 {
		sort.Strings(c.errs)
		for _, e := range c.errs {
			fmt.Fprintln(os.Stderr, e)
		}
		fmt.Fprintf(os.Stderr, "kubevalidate: %d problem(s) in %d object(s)\n", len(c.errs), len(objects))
		os.Exit(1)
	}
	kinds := map[string]int{}
	for _, o := range objects {
		kinds[o.kind]++
	}
	var parts []string
	for k, n := range kinds {
		parts = append(parts, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(parts)
	fmt.Printf("kubevalidate: %d object(s) valid (%s)\n", len(objects), strings.Join(parts, ", "))
}

func (c *checker) decodeAll(name string, r io.Reader, decoder runtime.Decoder) []object {
	var out []object
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.errf(name, "reading document %d: %v", i, err)
			break
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			c.errf(name, "document %d: %v", i, err)
			continue
		}
		where := fmt.Sprintf("%s#%d %s", name, i, tm.Kind)
		obj, gvk, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			c.errf(where, "%v", err)
			continue
		}
		m, err := metaOf(obj)
		if err != nil {
			c.errf(where, "%v", err)
			continue
		}
		out = append(out, object{where: fmt.Sprintf("%s %s/%s", name, gvk.Kind, m.GetName()), obj: obj, meta: m, kind: gvk.Kind})
	}
	return out
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return m, nil
}

func (c *checker) checkAll(objects []object) {
	seen := map[string]string{}
	var owners []podOwner
	services := map[string]*corev1.Service{}
	for _, o := range objects {
		key := o.kind + "/" + o.meta.GetName()
		if prev, dup := seen[key]; dup {
			c.errf(o.where, "rendered twice (also %s)", prev)
		}
		seen[key] = o.where
		c.checkMeta(o)
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			owners = append(owners, podOwner{v.Name, "Deployment", v.Spec.Selector, &v.Spec.Template, nil})
		case *appsv1.StatefulSet:
			var claims []string
			for _, pvc := range v.Spec.VolumeClaimTemplates {
				claims = append(claims, pvc.Name)
			}
			owners = append(owners, podOwner{v.Name, "StatefulSet", v.Spec.Selector, &v.Spec.Template, claims})
		case *corev1.Service:
			services[v.Name] = v
		case *corev1.Secret:
			if c.policy {
				c.errf(o.where, "the chart must reference Secrets, never render one")
			}
		}
	}
	for _, w := range owners {
		c.checkWorkload(w)
	}
	for _, o := range objects {
		switch v := o.obj.(type) {
		case *appsv1.StatefulSet:
			svc, ok := services[v.Spec.ServiceName]
			if !ok {
				c.errf(o.where, "serviceName %q is not rendered", v.Spec.ServiceName)
			} else if svc.Spec.ClusterIP != corev1.ClusterIPNone {
				c.errf(o.where, "serviceName %q is not a headless Service", v.Spec.ServiceName)
			}
			for _, pvc := range v.Spec.VolumeClaimTemplates {
				if len(pvc.Spec.AccessModes) == 0 {
					c.errf(o.where, "volumeClaimTemplate %q has no accessModes", pvc.Name)
				}
				if _, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
					c.errf(o.where, "volumeClaimTemplate %q requests no storage", pvc.Name)
				}
			}
		case *corev1.Service:
			c.checkService(o.where, v, owners)
		case *policyv1.PodDisruptionBudget:
			if (v.Spec.MinAvailable == nil) == (v.Spec.MaxUnavailable == nil) {
				c.errf(o.where, "exactly one of minAvailable and maxUnavailable")
			}
			if len(c.selected(o.where, v.Spec.Selector, owners)) == 0 {
				c.errf(o.where, "selects no rendered workload")
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := v.Spec.ScaleTargetRef
			found := false
			for _, w := range owners {
				found = found || (w.kind == ref.Kind && w.name == ref.Name)
			}
			if !found || ref.APIVersion != "apps/v1" {
				c.errf(o.where, "scaleTargetRef %s %s/%s is not a rendered workload", ref.APIVersion, ref.Kind, ref.Name)
			}
			if v.Spec.MinReplicas != nil && *v.Spec.MinReplicas > v.Spec.MaxReplicas {
				c.errf(o.where, "minReplicas %d > maxReplicas %d", *v.Spec.MinReplicas, v.Spec.MaxReplicas)
			}
			if len(v.Spec.Metrics) == 0 {
				c.errf(o.where, "no metrics")
			}
		case *networkingv1.NetworkPolicy:
			if len(c.selected(o.where, &v.Spec.PodSelector, owners)) == 0 {
				c.errf(o.where, "podSelector selects no rendered workload")
			}
		case *monitoringv1.ServiceMonitor:
			c.checkServiceMonitor(o.where, v, services)
		case *monitoringv1.PrometheusRule:
			if len(v.Spec.Groups) == 0 {
				c.errf(o.where, "no rule groups")
			}
			for _, g := range v.Spec.Groups {
				for _, r := range g.Rules {
					if (r.Alert == "") == (r.Record == "") || r.Expr.String() == "" {
						c.errf(o.where, "group %s: a rule needs exactly one of alert/record and an expr", g.Name)
					}
				}
			}
		case *corev1.ConfigMap:
			for k := range v.Data {
				if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
					c.errf(o.where, "data key %q: %s", k, strings.Join(errs, "; "))
				}
			}
		}
	}
}

func (c *checker) checkMeta(o object) {
	name := o.meta.GetName()
	if name == "" {
		c.errf(o.where, "metadata.name is empty")
	}
	switch o.kind {
	case "Service":
		for _, e := range validation.IsDNS1035Label(name) {
			c.errf(o.where, "name: %s", e)
		}
	case "StatefulSet":
		// pod names get "-<ordinal>" and the controller-revision-hash label gets a hash: 63 - 11
		if len(name) > 52 {
			c.errf(o.where, "name longer than 52 characters (pods and revision labels would be cut)")
		}
		for _, e := range validation.IsDNS1123Label(name) {
			c.errf(o.where, "name: %s", e)
		}
	default:
		for _, e := range validation.IsDNS1123Subdomain(name) {
			c.errf(o.where, "name: %s", e)
		}
	}
	c.checkLabels(o.where, "metadata.labels", o.meta.GetLabels())
	for k := range o.meta.GetAnnotations() {
		for _, e := range validation.IsQualifiedName(k) {
			c.errf(o.where, "annotation %q: %s", k, e)
		}
	}
}

func (c *checker) checkLabels(where, field string, l map[string]string) {
	for k, v := range l {
		for _, e := range validation.IsQualifiedName(k) {
			c.errf(where, "%s key %q: %s", field, k, e)
		}
		for _, e := range validation.IsValidLabelValue(v) {
			c.errf(where, "%s %q value %q: %s", field, k, v, e)
		}
	}
}

func (c *checker) selected(where string, sel *metav1.LabelSelector, owners []podOwner) []podOwner {
	if sel == nil {
		c.errf(where, "no selector")
		return nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		c.errf(where, "selector: %v", err)
		return nil
	}
	var out []podOwner
	for _, w := range owners {
		if s.Matches(labels.Set(w.template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

func (c *checker) checkWorkload(w podOwner) {
	where := w.kind + "/" + w.name
	c.checkLabels(where, "template labels", w.template.Labels)
	if w.selector == nil || (len(w.selector.MatchLabels) == 0 && len(w.selector.MatchExpressions) == 0) {
		c.errf(where, "empty selector")
	} else if s, err := metav1.LabelSelectorAsSelector(w.selector); err != nil {
		c.errf(where, "selector: %v", err)
	} else if !s.Matches(labels.Set(w.template.Labels)) {
		c.errf(where, "selector does not match the pod template's labels")
	}
	spec := &w.template.Spec
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		if volumes[v.Name] {
			c.errf(where, "volume %q declared twice", v.Name)
		}
		volumes[v.Name] = true
		for _, e := range validation.IsDNS1123Label(v.Name) {
			c.errf(where, "volume %q: %s", v.Name, e)
		}
	}
	if c.policy {
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			c.errf(where, "pod securityContext.runAsNonRoot must be true")
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			c.errf(where, "pod seccompProfile must be RuntimeDefault")
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			c.errf(where, "automountServiceAccountToken must be false (the hub does not call the Kubernetes API)")
		}
	}
	for _, claim := range w.claims {
		if volumes[claim] {
			c.errf(where, "volumeClaimTemplate %q shadows a volume", claim)
		}
		volumes[claim] = true
	}
	containers := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	if len(spec.Containers) == 0 {
		c.errf(where, "no containers")
	}
	for _, ct := range containers {
		cw := where + " container " + ct.Name
		ports := map[string]int32{}
		for _, p := range ct.Ports {
			if p.Name != "" {
				for _, e := range validation.IsValidPortName(p.Name) {
					c.errf(cw, "port name %q: %s", p.Name, e)
				}
				ports[p.Name] = p.ContainerPort
			}
		}
		for _, m := range ct.VolumeMounts {
			if !volumes[m.Name] {
				c.errf(cw, "volumeMount %q has no volume", m.Name)
			}
		}
		for _, e := range ct.Env {
			for _, msg := range validation.IsEnvVarName(e.Name) {
				c.errf(cw, "env %q: %s", e.Name, msg)
			}
		}
		for name, p := range map[string]*corev1.Probe{"startupProbe": ct.StartupProbe, "livenessProbe": ct.LivenessProbe, "readinessProbe": ct.ReadinessProbe} {
			if p == nil {
				if c.policy {
					c.errf(cw, "no %s", name)
				}
				continue
			}
			if p.HTTPGet != nil {
				c.checkPort(cw+" "+name, p.HTTPGet.Port, ports)
			}
		}
		if c.policy {
			sc := ct.SecurityContext
			switch {
			case sc == nil:
				c.errf(cw, "no securityContext")
			default:
				if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					c.errf(cw, "readOnlyRootFilesystem must be true")
				}
				if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					c.errf(cw, "allowPrivilegeEscalation must be false")
				}
				if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0 {
					c.errf(cw, "capabilities must drop ALL and add none")
				}
				if sc.Privileged != nil && *sc.Privileged {
					c.errf(cw, "privileged")
				}
			}
			if ct.Resources.Requests.Cpu().IsZero() || ct.Resources.Requests.Memory().IsZero() || ct.Resources.Limits.Memory().IsZero() {
				c.errf(cw, "needs cpu and memory requests and a memory limit")
			}
			if strings.HasSuffix(ct.Image, ":latest") || !strings.Contains(ct.Image, ":") && !strings.Contains(ct.Image, "@") {
				c.errf(cw, "image %q is not pinned to a tag or digest", ct.Image)
			}
		}
	}
}

func (c *checker) checkPort(where string, port intstr.IntOrString, named map[string]int32) {
	if port.Type == intstr.String {
		if _, ok := named[port.StrVal]; !ok {
			c.errf(where, "port %q is not a named port of the container", port.StrVal)
		}
	} else if port.IntVal < 1 || port.IntVal > 65535 {
		c.errf(where, "port %d out of range", port.IntVal)
	}
}

func (c *checker) checkService(where string, s *corev1.Service, owners []podOwner) {
	if len(s.Spec.Selector) == 0 {
		c.errf(where, "no selector")
		return
	}
	sel := labels.SelectorFromSet(s.Spec.Selector)
	var pods []podOwner
	for _, w := range owners {
		if sel.Matches(labels.Set(w.template.Labels)) {
			pods = append(pods, w)
		}
	}
	if len(pods) == 0 {
		c.errf(where, "selects no rendered workload")
		return
	}
	if s.Spec.ClusterIP != corev1.ClusterIPNone && len(s.Spec.Ports) == 0 {
		c.errf(where, "no ports")
	}
	for _, p := range s.Spec.Ports {
		if p.TargetPort.Type != intstr.String {
			continue
		}
		for _, w := range pods {
			found := false
			for _, ct := range w.template.Spec.Containers {
				for _, cp := range ct.Ports {
					found = found || cp.Name == p.TargetPort.StrVal
				}
			}
			if !found {
				c.errf(where, "targetPort %q is not a container port of %s/%s", p.TargetPort.StrVal, w.kind, w.name)
			}
		}
	}
}

func (c *checker) checkServiceMonitor(where string, sm *monitoringv1.ServiceMonitor, services map[string]*corev1.Service) {
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		c.errf(where, "selector: %v", err)
		return
	}
	var matched []*corev1.Service
	for _, s := range services {
		if sel.Matches(labels.Set(s.Labels)) {
			matched = append(matched, s)
		}
	}
	if len(matched) == 0 {
		c.errf(where, "selects no rendered Service")
	}
	for _, s := range matched {
		if sm.Spec.JobLabel != "" && s.Labels[sm.Spec.JobLabel] == "" {
			c.errf(where, "jobLabel %q is not a label of Service %s", sm.Spec.JobLabel, s.Name)
		}
		for _, ep := range sm.Spec.Endpoints {
			found := false
			for _, p := range s.Spec.Ports {
				found = found || p.Name == ep.Port
			}
			if !found {
				c.errf(where, "endpoint port %q is not a port of Service %s", ep.Port, s.Name)
			}
		}
	}
}
