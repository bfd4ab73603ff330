# The same cold-boot attack on a machine whose BIOS left TME off: the DIMM holds the
# secret in plaintext, before and after the power cycle.
# args: --seed 7 --bios tme=off --append quiet
a=$(mmap 4K)
write $a 'TOP SECRET: launch code 0000'
pagemap $a
# the page's physical address: its frame number (from the page-table entry) * 4096
pfn=$(pagemap $a | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2)
pa=$(printf '0x%x' $((pfn * 4096)))
sync
dimm read $pa 32
reboot --cold
dimm read $pa 32
