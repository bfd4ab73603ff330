# Threat model, stopped: one VM reading another. Two tenants (processes standing in for
# VMs) each get their own KeyID. Tenant B cannot reach A's page through its page tables,
# and had a buggy or malicious mapping given B A's frame under B's KeyID, B would read
# only garbage. The seed article's example: VM1 on KeyID 1, VM2 on KeyID 2.
# args: --seed 7 --append quiet
vm1=$(keyctl add mktme vm1 'type=cpu algorithm=aes-xts-128' @u)
vm2=$(keyctl add mktme vm2 'type=cpu algorithm=aes-xts-256' @u)
a=$(mmap 4K)
encrypt_mprotect $a 4K rw $vm1
write $a 'VM1 private: db password hunter2'
pagemap $a
pte=$(pagemap $a)
pa1=$(printf '0x%x' $(($(echo "$pte" | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2) * 4096)))
keyid1=$(echo "$pte" | grep -o 'keyid=[0-9]*' | cut -d= -f2)
child=$(fork)
switch $child
# the child (VM2) drops the copy it inherited and maps its own memory under KeyID 2
munmap $a 4K
b=$(mmap 4K)
encrypt_mprotect $b 4K rw $vm2
write $b 'VM2 data'
pagemap $b
read $b 8
keyid2=$(pagemap $b | grep -o 'keyid=[0-9]*' | cut -d= -f2)
# VM1's frame seen through VM2's KeyID (what a stray EPT entry would give VM2)
devmem -k $keyid2 $pa1 32
# and through VM1's own KeyID
devmem -k $keyid1 $pa1 32
ps
