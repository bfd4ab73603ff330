# Threat model, NOT stopped: privileged software. MKTME trusts the kernel (and the
# hypervisor): root can find any page's frame and KeyID and read it through the right
# alias, or move a tenant's memory to a no-encrypt KeyID so it reaches the DIMM in
# plaintext.
# args: --seed 7 --append quiet
keyctl add mktme tenant 'type=cpu algorithm=aes-xts-128' @u
keyctl add mktme plain 'type=no-encrypt' @u
mmap 8K
encrypt_mprotect 0x7effffffe000 8K rw 1397604227
write 0x7effffffe000 'tenant secret'
pagemap 0x7effffffe000 4K
# root reads the tenant's page through the tenant's KeyID
devmem -k 1 0x14c6000 16
# root switches the range to the no-encrypt key; new data goes to the DIMM in clear
encrypt_mprotect 0x7effffffe000 8K rw 714764569
write 0x7effffffe000 'tenant secret, again'
pagemap 0x7effffffe000 4K
sync
dimm read 0x14c6000 32
