# BIOS with TME locked off: only "not enabled by BIOS", no tme flag, 46 physical bits.
# args: --bios tme=off --nodes 1 --cpus 2 --append 'loglevel=7'
cat /proc/cpuinfo
rdmsr -a 0x982
pconfig 1 set-key-random aes-xts-128
