# Threat model, NOT stopped: tampering and replay. MKTME has no integrity or freshness:
# an attacker on the DIMM can put back an old ciphertext of a known plaintext and the
# CPU decrypts it without complaint; flipping ciphertext bits garbles one 16-byte block.
# args: --seed 7 --append quiet
keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u
mmap 4K
encrypt_mprotect 0x7efffffff000 4K rw 1397604227
write 0x7efffffff000 'balance=000100'
sync
dimm save 0x14c6000 64 /tmp/mktme-golden-replay.snap
write 0x7efffffff000 'balance=000000'
sync
read 0x7efffffff000 14
# replay the old ciphertext: the process now reads the old balance
dimm restore /tmp/mktme-golden-replay.snap
# (the clean copy in the cache is dropped first, so the CPU reads the DIMM again)
sync
read 0x7efffffff000 14
# tamper: one flipped byte of ciphertext garbles the first 16-byte block
dimm write 0x14c6000 ff
sync
read 0x7efffffff000 14 -x
