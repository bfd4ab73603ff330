# Threat model, NOT stopped: no integrity. Reading memory through the wrong KeyID is not
# an error; it decrypts with the wrong key and returns garbage, silently. An unprogrammed
# KeyID behaves as the TME key.
# args: --seed 7 --append quiet
keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u
mmap 4K
encrypt_mprotect 0x7efffffff000 4K rw 1397604227
write 0x7efffffff000 'right key only'
pagemap 0x7efffffff000
devmem -k 1 0x14c6000 16
devmem -k 0 0x14c6000 16
devmem -k 7 0x14c6000 16
