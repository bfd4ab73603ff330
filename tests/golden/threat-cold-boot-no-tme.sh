# The same cold-boot attack on a machine whose BIOS left TME off: the DIMM holds the
# secret in plaintext, before and after the power cycle.
# args: --seed 7 --bios tme=off --append quiet
mmap 4K
write 0x7efffffff000 'TOP SECRET: launch code 0000'
pagemap 0x7efffffff000
sync
dimm read 0x1409000 32
reboot --cold
dimm read 0x1409000 32
