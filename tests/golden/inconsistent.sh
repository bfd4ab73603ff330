# Packages programmed with different KeyID widths: an AP finds the configuration
# inconsistent and MKTME is disabled; each CPU keeps its own address size.
# args: --bios inconsistent=on --append quiet
dmesg
rdmsr -a -0c 0x982
rdmsr -a -f 35:32 0x982
cat /proc/cpuinfo
