package dnfcompat

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/alicorn-dev/alicorn/report"
)

const usage = `usage: %[1]s [options] updateinfo [summary|list|info] [available|installed|updates|all]
       [security|bugfix|enhancement|newpackage|cves|bzs] [SPEC...]
       (also: list-updateinfo, list-security, list-sec, info-updateinfo, info-security, info-sec,
       summary-updateinfo, upif)

Reports the advisories that apply to installed packages, exactly as dnf 4.14's updateinfo.

Output:
  --summary, --list, --info     what to show (default: summary)
  --available (default), --installed, --updates, --all
  --with-cve, --with-bz         list CVE or Bugzilla IDs instead of advisory IDs
  -v, --verbose                 list: add dates; info: add rights and files
Filters (combined with OR):
  --security, --bugfix, --enhancement, --newpackage
  --sec-severity=Critical|Important|Moderate|Low
  --advisory=ID[,ID], --cve=ID[,ID], --bz=ID[,ID], SPEC globs on advisory IDs and package names
Host and repositories:
  --installroot=PATH, --releasever=VER, --repofrompath=ID,URL, --repo=ID, --enablerepo=ID,
  --disablerepo=ID, --setopt=[REPO.]OPTION=VALUE (cachedir, reposdir, excludepkgs, REPO.enabled),
  -x/--exclude=GLOB, --disableexcludes=all, -C/--cacheonly, -q/--quiet
Not in dnf:
  --with-links                  add update notice URLs (list) and reference URLs (info)
  --json                        the report as JSON (schema %[2]s)
  --fail-on=SEVERITY            exit 100 when a security advisory of at least SEVERITY is in the report
  --image=REF                   report on a container image as if it were the installroot
                                (oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE,
                                docker://HOST/REPO:TAG, containers-storage:NAME), with the host's
                                repositories
  --image-repos                 with --image, use the image's own repositories instead (file:// refused)
  --modules-dir=DIR             also read module files (*.toml) from DIR; INSTALLROOT/etc/alicorn/modules.d
                                is always read. Modules needing updates are listed after dnf's report
  --module-packages             under each module row, the affected packages inside its image
  --podman-modules              also take the modules of podman containers labelled io.alicorn.module
  --kube-modules                also take the modules of a Kubernetes cluster's Deployments labelled
                                io.alicorn.module (their images read from the registry); a name in
                                several namespaces becomes NAMESPACE/DEPLOYMENT
  --kubeconfig=PATH             with --kube-modules, the cluster's kubeconfig (default: as kubectl,
                                $KUBECONFIG, else ~/.kube/config)
  --kube-namespace=NS           with --kube-modules, look in NS only (default: all namespaces)
  --osv=PATH                    check the gems, Python distributions and Maven jars in module images (and in
                                the --image) against
                                OSV advisories: a JSON file, a directory of them or an all.zip (repeatable;
                                a module file's osv = [...] adds feeds for its module). -v lists each such
                                package with its advisories' CVE ids and fixed versions
  --osv-rpm-owned               also check packages whose files an RPM owns (by default they are reported
                                only through that RPM's advisories, which carry the distribution's fixes)
  --max-memory=SIZE             what the readers of images and archives may hold in memory at once, all
                                together (k, M or G; none for no bound; default 192M): past it a file is
                                not read, with a warning, or an image of too many files is an error
  --max-disk=SIZE               the same for their temporary files (large jars and rpm databases kept on
                                disk, nested archives; default 4G)
  --tempdir=DIR                 where the temporary files go (default $TMPDIR or /tmp)

Exit status: 0 success, 1 error (one line on stderr, nothing on stdout), 100 with --fail-on.
`

// writeHelp prints the usage text.
func writeHelp(w io.Writer, prog string) {
	fmt.Fprintf(w, usage, prog, report.JSONSchema)
}

// version is the module version this program was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
