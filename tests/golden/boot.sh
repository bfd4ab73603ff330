# The whole boot log of the default machine (two packages, TME + MKTME with 6 KeyID
# bits) on stderr, with unknown command-line parameters; then what procfs says.
# args: --append 'foo bar=1 baz.qux=2'
cat /proc/cmdline
cat /proc/version
cat /proc/cpuinfo
