# Threat model, stopped: snooping the DIMMs or the memory bus. A process's page under
# its own CPU-generated key (KeyID 1) reaches the DIMM only as AES-XTS ciphertext; the
# engine sits between the caches and the memory controller. Caches hold plaintext.
# args: --seed 7 --append quiet
k=$(keyctl add mktme tenant 'type=cpu algorithm=aes-xts-128' @u)
a=$(mmap 4K)
encrypt_mprotect $a 4K rw $k
write $a 'card 4111-1111-1111-1111 exp 12/29'
pagemap $a
pfn=$(pagemap $a | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2)
pa=$(printf '0x%x' $((pfn * 4096)))
# before write-back the DIMM has nothing of it, the cache has the plaintext
dimm read $pa 48
cache $pa
sync
# after write-back: ciphertext on the DIMM, nothing cached
dimm read $pa 48
cache $pa
read $a 35
