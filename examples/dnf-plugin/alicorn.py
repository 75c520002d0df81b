# alicorn.py: a dnf 4 plugin adding `dnf alicorn report` and `dnf alicorn upgrade`.
#
#   dnf alicorn report [updateinfo options]
#       runs alicorn's reporter (dnf-security) with the host options dnf was
#       given and prints its report (host and modules) unchanged.
#   dnf alicorn upgrade [--security] [--advisory=ID] [--cve=ID] [--bz=ID]
#                       [--sec-severity=S] [MODULE...]
#       upgrades the host's packages fixed by the matching advisories in dnf's
#       own transaction, then the modules through `module-update apply` with
#       the same filters.
#
# Configuration: alicorn.conf in dnf's pluginconfpath (see the sample file
# and README.md beside this one). Python 3 standard library and dnf only.

import argparse
import logging
import os
import shutil
import subprocess
import sys

import dnf
import dnf.cli
import dnf.exceptions

logger = logging.getLogger('dnf')

# The options of alicorn.conf's [main] section and their defaults.
DEFAULTS = {
    'reporter': 'dnf-security',      # the reporter binary, a path or a name on PATH
    'module_update': 'module-update',  # the modules' updater, a path or a name on PATH
    'modules': 'yes',                # no: `upgrade` leaves the modules alone
    'modules_dir': '',               # --modules-dir for both binaries (empty: their default)
    'state_dir': '',                 # --state for module-update (empty: its default)
}

# Options dnf's own parser does not know that `report` passes on to the
# reporter: flags, then options taking a value.
REPORT_FLAGS = ('--summary', '--list', '--info', '--available', '--installed', '--updates',
                '--all', '--with-cve', '--with-bz', '--json', '--with-links',
                '--module-packages', '--podman-modules', '--kube-modules', '--osv-rpm-owned')
REPORT_VALUES = ('--fail-on', '--osv', '--kubeconfig', '--kube-namespace')

# dnf options that configure dnf's plugins, not the host: not for the reporter.
PLUGIN_SETOPTS = ('pluginpath', 'pluginconfpath', 'plugins')


class Alicorn(dnf.Plugin):
    name = 'alicorn'

    def __init__(self, base, cli):
        super().__init__(base, cli)
        if cli:
            cli.register_command(AlicornCommand)


def read_settings(conf):
    """Returns alicorn.conf's [main] options over DEFAULTS."""
    parser = Alicorn.read_config(conf)
    settings = dict(DEFAULTS)
    if parser.has_section('main'):
        for key in DEFAULTS:
            if parser.has_option('main', key):
                settings[key] = parser.get('main', key).strip()
    value = settings['modules'].lower()
    if value not in ('yes', 'no', 'true', 'false', '1', '0', 'on', 'off'):
        raise dnf.exceptions.ConfigError(
            'alicorn.conf: modules = %s: expected yes or no' % settings['modules'])
    settings['modules'] = value in ('yes', 'true', '1', 'on')
    return settings


def opt_name(flag):
    return flag.lstrip('-').replace('-', '_')


class AlicornCommand(dnf.cli.Command):
    aliases = ('alicorn',)
    summary = 'report and apply security updates to the host and its alicorn modules'

    @staticmethod
    def set_argparser(parser):
        parser.add_argument('action', choices=('report', 'upgrade'),
                            help='report: the reporter\'s updateinfo report; '
                                 'upgrade: the host\'s fixes, then the modules\'')
        parser.add_argument('args', nargs=argparse.REMAINDER, metavar='ARG',
                            help='report: updateinfo words and SPECs; upgrade: MODULE names')
        for flag in REPORT_FLAGS:
            parser.add_argument(flag, dest='alicorn_' + opt_name(flag), action='store_true',
                                help='report: as the reporter\'s ' + flag)
        for flag in REPORT_VALUES:
            parser.add_argument(flag, dest='alicorn_' + opt_name(flag), action='append',
                                default=[], metavar='VALUE', help='report: as the reporter\'s ' + flag)

    def configure(self):
        self.settings = read_settings(self.base.conf)
        self.modules_status = None
        if self.opts.action == 'report':
            return
        unknown = [f for f in REPORT_FLAGS + REPORT_VALUES
                       if getattr(self.opts, 'alicorn_' + opt_name(f))]
        for arg in self.opts.args:
            if arg.startswith('-'):
                unknown.append(arg)
        if unknown:
            raise dnf.cli.CliError('alicorn upgrade: unknown option %s' % unknown[0])
        for flag in ('bugfix', 'enhancement', 'newpackage'):
            if getattr(self.opts, flag):
                raise dnf.cli.CliError(
                    'alicorn upgrade: --%s is not supported: module-update applies security '
                    'filters only (use dnf upgrade --%s for the host)' % (flag, flag))
        demands = self.cli.demands
        demands.sack_activation = True
        demands.available_repos = True
        demands.resolving = True
        demands.root_user = True

    def run(self):
        if self.opts.action == 'report':
            self.report()
        else:
            self.upgrade()

    # report

    def report(self):
        argv = [self.settings['reporter']] + self.host_args() + ['updateinfo']
        for flag in REPORT_FLAGS:
            if getattr(self.opts, 'alicorn_' + opt_name(flag)):
                argv.append(flag)
        for flag in REPORT_VALUES:
            argv += ['%s=%s' % (flag, v) for v in getattr(self.opts, 'alicorn_' + opt_name(flag))]
        argv += self.filter_args(with_types=True) + self.opts.args
        self.cli.demands.success_exit_status = self.call(argv, 'reporter')

    def host_args(self):
        """The reporter's options for the host and repositories dnf was given."""
        opts, args = self.opts, []
        if opts.installroot:
            args.append('--installroot=' + opts.installroot)
        if opts.releasever:
            args.append('--releasever=' + opts.releasever)
        for key, values in getattr(opts, 'main_setopts', {}).items():
            if key not in PLUGIN_SETOPTS:
                args += ['--setopt=%s=%s' % (key, v) for v in values]
        for repo, options in getattr(opts, 'repo_setopts', {}).items():
            for key, values in options.items():
                args += ['--setopt=%s.%s=%s' % (repo, key, v) for v in values]
        for repo, url in opts.repofrompath.items():
            args.append('--repofrompath=%s,%s' % (repo, url))
        # dnf has already turned --repo and --repofrompath into this list.
        for repo, operation in opts.repos_ed:
            args.append('--%srepo=%s' % (operation, repo))
        args += ['--exclude=' + x for x in opts.excludepkgs]
        args += ['--disableexcludes=' + x for x in opts.disable_excludes]
        if opts.cacheonly:
            args.append('--cacheonly')
        if opts.quiet:
            args.append('--quiet')
        if opts.verbose:
            args.append('--verbose')
        if self.settings['modules_dir']:
            args.append('--modules-dir=' + self.settings['modules_dir'])
        return args

    def filter_args(self, with_types):
        """dnf's advisory filters (parsed by dnf itself) as options."""
        opts, args = self.opts, []
        types = ('security', 'bugfix', 'enhancement', 'newpackage') if with_types else ('security',)
        args += ['--' + t for t in types if getattr(opts, t)]
        args += ['--advisory=' + x for x in opts.advisory]
        args += ['--cve=' + x for x in opts.cves]
        args += ['--bz=' + x for x in opts.bugzilla]
        args += ['--sec-severity=' + x for x in opts.severity]
        return args

    # upgrade

    def upgrade(self):
        opts = self.opts
        given = opts.security or opts.advisory or opts.cves or opts.bugzilla or opts.severity
        if not given:
            opts.security = True  # `alicorn upgrade` alone: the security fixes
        # dnf.Base's security filter API (4.14): later upgrades, installs and
        # distro-syncs are limited to packages of matching advisories; 'gte'
        # upgrades them to the newest version, as `dnf upgrade --security`.
        self.base.add_security_filters('gte', types=['security'] if opts.security else [],
                                       advisory=opts.advisory, bugzilla=opts.bugzilla,
                                       cves=opts.cves, severity=opts.severity)
        self.base.upgrade_all()

    def run_resolved(self):
        # dnf refuses a transaction under --assumeno and stops there: the
        # modules' dry run comes first then, so that both plans are shown.
        if self.opts.action == 'upgrade' and self.base.conf.assumeno and self.base.transaction:
            self.modules_status = self.upgrade_modules()

    def run_transaction(self):
        # After the host's transaction succeeded (or had nothing to do).
        if self.opts.action != 'upgrade':
            return
        if self.modules_status is None:
            self.modules_status = self.upgrade_modules()
        self.cli.demands.success_exit_status = self.modules_status

    def upgrade_modules(self):
        """Runs module-update apply; returns its exit status (0 when skipped)."""
        settings, conf = self.settings, self.base.conf
        if not settings['modules']:
            logger.info('alicorn: modules skipped (modules = no in alicorn.conf)')
            return 0
        if conf.installroot != '/' and not settings['modules_dir']:
            # module-update acts on this machine's containers, not the root's.
            logger.warning('alicorn: modules skipped: --installroot=%s and no modules_dir in '
                           'alicorn.conf', conf.installroot)
            return 0
        binary = shutil.which(settings['module_update'])
        if binary is None:
            logger.warning('alicorn: modules skipped: %s not found (module_update in alicorn.conf)',
                           settings['module_update'])
            return 0
        argv = [binary]
        if settings['modules_dir']:
            argv += ['--modules-dir', settings['modules_dir']]
        if settings['state_dir']:
            argv += ['--state', settings['state_dir']]
        argv.append('apply')
        for arg in self.filter_args(with_types=False):
            argv += arg.split('=', 1)
        # A host transaction that only downloads or tests: a dry run too.
        if conf.assumeno or conf.downloadonly or 'test' in conf.tsflags:
            argv.append('--assumeno')
        elif conf.assumeyes:
            argv.append('-y')
        status = self.call(argv + self.opts.args, 'module_update')
        if status != 0:
            done = ''
            if self.base.transaction and not conf.assumeno:
                done = '; the host\'s transaction is complete'
            logger.error('alicorn: module-update failed (exit status %d)%s', status, done)
        return status

    def call(self, argv, setting):
        """Runs argv on dnf's terminal and returns its exit status."""
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            status = subprocess.run(argv, check=False).returncode
        except OSError as e:
            raise dnf.exceptions.Error('alicorn: cannot run %s (%s in alicorn.conf): %s'
                                       % (argv[0], setting, os.strerror(e.errno) if e.errno else e))
        return 128 - status if status < 0 else status  # killed by a signal: as a shell says
