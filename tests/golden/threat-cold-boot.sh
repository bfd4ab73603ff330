# Threat model, stopped: a cold-boot attack. The DIMMs keep their bytes across a power
# cycle, but they only ever held ciphertext, and TME's platform key is made anew by the
# CPU's RNG at every boot, so not even this machine can read them afterwards.
# args: --seed 7 --append quiet
a=$(mmap 4K)
write $a 'TOP SECRET: launch code 0000'
pagemap $a
# the page's physical address: its frame number (from the page-table entry) * 4096
pfn=$(pagemap $a | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2)
pa=$(printf '0x%x' $((pfn * 4096)))
sync
# what the kernel sees through its KeyID-0 direct map: plaintext (TME is transparent)
devmem $pa 32
# what the DIMM holds: ciphertext
dimm read $pa 32
reboot --cold
# the same bytes survived the power cycle ...
dimm read $pa 32
# ... but decrypt to garbage under the new platform key
devmem $pa 32
