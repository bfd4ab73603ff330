# Threat model, stopped: a cold-boot attack. The DIMMs keep their bytes across a power
# cycle, but they only ever held ciphertext, and TME's platform key is made anew by the
# CPU's RNG at every boot, so not even this machine can read them afterwards.
# args: --seed 7 --append quiet
mmap 4K
write 0x7efffffff000 'TOP SECRET: launch code 0000'
pagemap 0x7efffffff000
sync
# what the kernel sees through its KeyID-0 direct map: plaintext (TME is transparent)
devmem 0x14c6000 32
# what the DIMM holds: ciphertext
dimm read 0x14c6000 32
reboot --cold
# the same bytes survived the power cycle ...
dimm read 0x14c6000 32
# ... but decrypt to garbage under the new platform key
devmem 0x14c6000 32
