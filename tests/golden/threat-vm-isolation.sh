# Threat model, stopped: one VM reading another, with real VMs. VM1 runs on KeyID 1,
# VM2 on KeyID 2 (type=user keys, so a test can recompute every byte). VM2 cannot reach
# VM1's memory: its guest-physical addresses lead only to its own frames. Had KVM (by a
# bug, or a malicious hypervisor) pointed one of VM2's EPT entries at VM1's frame, VM2
# would read garbage, because the entry carries VM2's KeyID.
# Not stopped (privileged software): the hypervisor reads VM1's frame through the
# KeyID-1 alias. And what a DIMM probe sees is AES-XTS ciphertext under VM1's key.
# args: --seed 7 --append quiet
k1=$(keyctl add mktme vm1 'type=user algorithm=aes-xts-128 key=00112233445566778899aabbccddeeff tweak=0f1e2d3c4b5a69788796a5b4c3d2e1f0' @u)
k2=$(keyctl add mktme vm2 'type=user algorithm=aes-xts-128 key=ffeeddccbbaa99887766554433221100 tweak=f0e1d2c3b4a5968778695a4b3c2d1e0f' @u)
vm create vm1 --key $k1
vm create vm2 --key $k2 --share scratch:0x8200000:4K
# VM1's secret, in a process of VM1's console shell (lines up to ~. go to the guest)
vm console vm1
mmap 4K
write 0x7efffffff000 'VM1 private: db password hunter2'
pte=$(pagemap 0x7efffffff000)
~.
echo "$pte"
gpa=$(printf '0x%x' $(($(echo "$pte" | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2) * 4096)))
vm ept vm1 $gpa
hpa=$(vm ept vm1 $gpa | grep -o 'hpa=0x[0-9a-f]*' | cut -d= -f2)
# VM2 at the same guest-physical address: its own frame, its own KeyID, not VM1's data
vm exec vm2 "devmem $gpa 32"
vm ept vm2 $gpa
# the physical attacker, after write-back: ciphertext at VM1's host-physical address
sync
dimm read $hpa 32
# the hypervisor (root) reads VM1's frame through VM1's KeyID
devmem -k 1 $hpa 32
# a stray EPT entry: VM2's frame 0x8200000 pointed at VM1's frame, under KeyID 2
vm ept -w vm2 0x8200000 $hpa 2
vm ept vm2 0x8200000
vm exec vm2 'devmem 0x8200000 32'
vm destroy vm1
vm destroy vm2
