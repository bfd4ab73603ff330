# Threat model, NOT stopped: no integrity. Reading memory through the wrong KeyID is not
# an error; it decrypts with the wrong key and returns garbage, silently. An unprogrammed
# KeyID behaves as the TME key.
# args: --seed 7 --append quiet
k=$(keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u)
a=$(mmap 4K)
encrypt_mprotect $a 4K rw $k
write $a 'right key only'
pagemap $a
pte=$(pagemap $a)
pa=$(printf '0x%x' $(($(echo "$pte" | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2) * 4096)))
keyid=$(echo "$pte" | grep -o 'keyid=[0-9]*' | cut -d= -f2)
# the right KeyID, then KeyID 0 (the TME key) and an unprogrammed KeyID 7
devmem -k $keyid $pa 16
devmem -k 0 $pa 16
devmem -k 7 $pa 16
