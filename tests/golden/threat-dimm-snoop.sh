# Threat model, stopped: snooping the DIMMs or the memory bus. A process's page under
# its own CPU-generated key (KeyID 1) reaches the DIMM only as AES-XTS ciphertext; the
# engine sits between the caches and the memory controller. Caches hold plaintext.
# args: --seed 7 --append quiet
keyctl add mktme tenant 'type=cpu algorithm=aes-xts-128' @u
mmap 4K
encrypt_mprotect 0x7efffffff000 4K rw 1397604227
write 0x7efffffff000 'card 4111-1111-1111-1111 exp 12/29'
pagemap 0x7efffffff000
# before write-back the DIMM has nothing of it, the cache has the plaintext
dimm read 0x14c6000 48
cache 0x14c6000
sync
# after write-back: ciphertext on the DIMM, nothing cached
dimm read 0x14c6000 48
cache 0x14c6000
read 0x7efffffff000 35
