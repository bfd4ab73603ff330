# Threat model, stopped: one VM reading another. Two tenants (processes standing in for
# VMs) each get their own KeyID. Tenant B cannot reach A's page through its page tables,
# and had a buggy or malicious mapping given B A's frame under B's KeyID, B would read
# only garbage. The seed article's example: VM1 on KeyID 1, VM2 on KeyID 2.
# args: --seed 7 --append quiet
keyctl add mktme vm1 'type=cpu algorithm=aes-xts-128' @u
keyctl add mktme vm2 'type=cpu algorithm=aes-xts-256' @u
mmap 4K
encrypt_mprotect 0x7efffffff000 4K rw 1397604227
write 0x7efffffff000 'VM1 private: db password hunter2'
pagemap 0x7efffffff000
fork
switch 3
# the child (VM2) drops the copy it inherited and maps its own memory under KeyID 2
munmap 0x7efffffff000 4K
mmap 4K
encrypt_mprotect 0x7efffffff000 4K rw 714764569
write 0x7efffffff000 'VM2 data'
pagemap 0x7efffffff000
read 0x7efffffff000 8
# VM1's frame seen through VM2's KeyID (what a stray EPT entry would give VM2)
devmem -k 2 0x14c6000 32
# and through VM1's own KeyID
devmem -k 1 0x14c6000 32
ps
