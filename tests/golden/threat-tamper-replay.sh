# Threat model, NOT stopped: tampering and replay. MKTME has no integrity or freshness:
# an attacker on the DIMM can put back an old ciphertext of a known plaintext and the
# CPU decrypts it without complaint; flipping ciphertext bits garbles one 16-byte block.
# args: --seed 7 --append quiet
k=$(keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u)
a=$(mmap 4K)
encrypt_mprotect $a 4K rw $k
write $a 'balance=000100'
pfn=$(pagemap $a | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2)
pa=$(printf '0x%x' $((pfn * 4096)))
sync
dimm save $pa 64 /tmp/mktme-golden-replay.snap
write $a 'balance=000000'
sync
read $a 14
# replay the old ciphertext: the process now reads the old balance
dimm restore /tmp/mktme-golden-replay.snap
# (the clean copy in the cache is dropped first, so the CPU reads the DIMM again)
sync
read $a 14
# tamper: one flipped byte of ciphertext garbles the first 16-byte block
dimm write $pa ff
sync
read $a 14 -x
