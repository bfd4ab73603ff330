# Threat model, NOT stopped: privileged software. MKTME trusts the kernel (and the
# hypervisor): root can find any page's frame and KeyID and read it through the right
# alias, or move a tenant's memory to a no-encrypt KeyID so it reaches the DIMM in
# plaintext.
# args: --seed 7 --append quiet
tenant=$(keyctl add mktme tenant 'type=cpu algorithm=aes-xts-128' @u)
plain=$(keyctl add mktme plain 'type=no-encrypt' @u)
a=$(mmap 8K)
encrypt_mprotect $a 8K rw $tenant
write $a 'tenant secret'
pagemap $a 4K
# root learns the frame and the KeyID from the page-table entry ...
pte=$(pagemap $a 4K)
pfn=$(echo "$pte" | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2)
keyid=$(echo "$pte" | grep -o 'keyid=[0-9]*' | cut -d= -f2)
pa=$(printf '0x%x' $((pfn * 4096)))
# ... and reads the tenant's page through the tenant's KeyID
devmem -k $keyid $pa 16
# root switches the range to the no-encrypt key; new data goes to the DIMM in clear
encrypt_mprotect $a 8K rw $plain
write $a 'tenant secret, again'
pagemap $a 4K
sync
dimm read $pa 32
