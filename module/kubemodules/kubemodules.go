// Package kubemodules discovers modules from a Kubernetes cluster: the
// Deployments labelled io.alicorn.module=NAME (module.Label), as
// update/kube's Manifests makes them, each reported as a module whose
// image is the one the Deployment's pod template names (its first
// container's: what new pods run, not necessarily what every running pod
// runs mid-rollout), read from the registry like any docker:// module.
//
// It reads the cluster through client-go's kubeconfig loading and REST
// client only, not the typed clientset: the clientset links and
// registers every API group, which would more than double the reporter
// that links this package (dnf-security: 20.7 MB, 48.8 MB with the
// clientset, 26.8 MB with this package, nearly all of it kubeconfig
// loading and its authenticated transport).
package kubemodules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/alicorn-dev/alicorn/module"
)

// SourcePrefix begins the Source of a discovered module:
// kubernetes:NAMESPACE/DEPLOYMENT.
const SourcePrefix = "kubernetes:"

// Config says which cluster to discover modules in, and where.
type Config struct {
	// Kubeconfig is the kubeconfig file. "" loads what kubectl loads:
	// the files $KUBECONFIG lists, else ~/.kube/config, else, in a pod,
	// the pod's service account.
	Kubeconfig string
	// Namespace is the one namespace to look in; "" looks in all of
	// them. Unlike kubectl, the kubeconfig context's namespace is not
	// used: a report must not leave out modules because of where the
	// last kubectl config set-context pointed.
	Namespace string
	// Timeout bounds each request to the cluster (0: one minute).
	Timeout time.Duration
}

// ErrNoConfig is wrapped by Discover's error when no kubeconfig is
// found.
var ErrNoConfig = errors.New("no kubeconfig")

// Discover loads cfg's kubeconfig as kubectl does and returns the
// modules of its cluster (List). Its errors name the kubeconfig and the
// server.
func Discover(ctx context.Context, cfg Config) ([]module.Module, error) {
	rc, _, where, err := Load(cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.Timeout = cfg.Timeout
	if rc.Timeout == 0 {
		rc.Timeout = time.Minute
	}
	c, err := NewClient(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: kubeconfig %s: %w", where, err)
	}
	mods, err := List(ctx, c, cfg.Namespace)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: server %s (kubeconfig %s): %w", rc.Host, where, err)
	}
	return mods, nil
}

// Load loads a kubeconfig as kubectl does: kubeconfig, else the files
// $KUBECONFIG lists, else ~/.kube/config, else, in a pod, the pod's
// service account. It returns the client configuration, the current
// context's namespace ("default" when it names none) and which
// kubeconfig it read, for errors; its errors say where it looked.
func Load(kubeconfig string) (cfg *rest.Config, namespace, where string, err error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	where = kubeconfigName(rules)
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	rc, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", where, fmt.Errorf("kubernetes: %w (looked for %s; name one with --kubeconfig)", ErrNoConfig, where)
		}
		return nil, "", where, fmt.Errorf("kubernetes: kubeconfig %s: %w", where, err)
	}
	if !anyExists(rules) {
		where = "none: the pod's service account" // clientcmd's in-cluster fallback
	}
	if namespace, _, err = cc.Namespace(); err != nil {
		return nil, "", where, fmt.Errorf("kubernetes: kubeconfig %s: %w", where, err)
	}
	return rc, namespace, where, nil
}

// kubeconfigName says which kubeconfig rules load, for errors: the
// explicit file, else the files of $KUBECONFIG, else ~/.kube/config.
func kubeconfigName(rules *clientcmd.ClientConfigLoadingRules) string {
	if rules.ExplicitPath != "" {
		return rules.ExplicitPath
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		return "$" + clientcmd.RecommendedConfigPathEnvVar + "=" + env
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)
	}
	return clientcmd.RecommendedHomeFile
}

// anyExists reports whether one of the files rules load exists.
func anyExists(rules *clientcmd.ClientConfigLoadingRules) bool {
	files := rules.GetLoadingPrecedence()
	if rules.ExplicitPath != "" {
		files = []string{rules.ExplicitPath}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

// NewClient returns a REST client of the cluster cfg reaches, for List,
// that decodes the server's errors (metav1.Status) and nothing else.
// Server warnings are dropped rather than logged on stderr.
func NewClient(cfg *rest.Config) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	c.GroupVersion = &schema.GroupVersion{Group: "apps", Version: "v1"}
	c.APIPath = "/apis"
	if c.WarningHandler == nil && c.WarningHandlerWithContext == nil {
		c.WarningHandler = rest.NoWarnings{}
	}
	return rest.RESTClientFor(c)
}

// pageSize is how many Deployments one list request asks for.
const pageSize = 500

// List returns the modules of the Deployments labelled module.Label in
// namespace ("" for all namespaces), in name order; c is any REST client
// of the cluster (NewClient's, or a clientset's AppsV1().RESTClient()).
//
// Each Deployment is a module: its name is the label's value, its
// image "docker://" and the image of the pod template's first container
// (Manifests names the image by digest; an image named by tag is
// reported as the tag names it when the report runs), its Source
// kubernetes:NAMESPACE/DEPLOYMENT. When several Deployments carry one
// name (the module deployed to two namespaces, say), each of them is
// named NAMESPACE/DEPLOYMENT instead, so that every one is reported.
// A Deployment whose label is empty is no module; one whose first
// container names no image is an error. Discovered modules have no
// containers, health or update policy: they are for reports.
func List(ctx context.Context, c rest.Interface, namespace string) ([]module.Module, error) {
	var all []deployment
	cont := ""
	for {
		req := c.Get().AbsPath("/apis/apps/v1").Namespace(namespace).Resource("deployments").
			Param("labelSelector", module.Label).Param("limit", fmt.Sprint(pageSize))
		if cont != "" {
			req = req.Param("continue", cont)
		}
		res := req.Do(ctx)
		if err := res.Error(); err != nil { // the server's Status, when it sent one
			return nil, listError(err, namespace)
		}
		body, _ := res.Raw()
		var l deploymentList
		if err := json.Unmarshal(body, &l); err != nil {
			return nil, fmt.Errorf("listing Deployments: %w", err)
		}
		all = append(all, l.Items...)
		if cont = l.Metadata.Continue; cont == "" {
			break
		}
	}
	if len(all) == 0 && namespace != "" {
		// The list of a namespace that does not exist is empty, as
		// kubectl's is: say it when the server says so (one who may not
		// read namespaces gets the empty list).
		err := c.Get().AbsPath("/api/v1/namespaces", namespace).Do(ctx).Error()
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("namespace %s: %w", namespace, err)
		}
	}
	return fromDeployments(all)
}

func listError(err error, namespace string) error {
	where := "all namespaces"
	if namespace != "" {
		where = "namespace " + namespace
	}
	if apierrors.IsForbidden(err) && namespace == "" {
		return fmt.Errorf("listing Deployments labelled %s in %s: %w (name a namespace to look in that one only)", module.Label, where, err)
	}
	return fmt.Errorf("listing Deployments labelled %s in %s: %w", module.Label, where, err)
}

// deploymentList is what List reads of an apps/v1 DeploymentList.
type deploymentList struct {
	Metadata struct {
		Continue string `json:"continue"`
	} `json:"metadata"`
	Items []deployment `json:"items"`
}

type deployment struct {
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Name  string `json:"name"`
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

func (d *deployment) id() string { return d.Metadata.Namespace + "/" + d.Metadata.Name }

// fromDeployments turns Deployments into modules (List).
func fromDeployments(ds []deployment) ([]module.Module, error) {
	count := map[string]int{}
	for _, d := range ds {
		if n := d.Metadata.Labels[module.Label]; n != "" {
			count[n]++
		}
	}
	var out []module.Module
	for _, d := range ds {
		n := d.Metadata.Labels[module.Label]
		if n == "" {
			continue
		}
		cs := d.Spec.Template.Spec.Containers
		if len(cs) == 0 || strings.TrimSpace(cs[0].Image) == "" {
			return nil, fmt.Errorf("%s%s: %w: Deployment labelled %s=%s runs no image", SourcePrefix, d.id(), module.ErrInvalid, module.Label, n)
		}
		if count[n] > 1 {
			n = d.id()
		}
		out = append(out, module.Module{Name: n, Image: "docker://" + cs[0].Image, Source: SourcePrefix + d.id()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name }) // unique
	return out, nil
}
