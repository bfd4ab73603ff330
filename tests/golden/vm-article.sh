# The article's example with real VMs: the hypervisor (this kernel, with KVM) on
# KeyID 0, VM1's private memory on KeyID 1, VM2's on KeyID 2, a region both VMs read and
# write on KeyID 3, and an I/O buffer on KeyID 0 that the hypervisor reads in plaintext.
# Each VM is this same kernel booted as a guest by a VMM process (lkvm); the VMM picks
# the KeyID in user space (encrypt_mprotect on the memory backing guest RAM), KVM's EPT
# carries it.
# args: --seed 7 --append quiet
k1=$(keyctl add mktme vm1 'type=cpu algorithm=aes-xts-128' @u)
k2=$(keyctl add mktme vm2 'type=cpu algorithm=aes-xts-128' @u)
k3=$(keyctl add mktme shared 'type=cpu algorithm=aes-xts-128' @u)
vm create vm1 --key $k1 --share vmshare:0x8000000:64K:$k3 --share iobuf:0x8100000:4K
vm create vm2 --key $k2 --share vmshare:0x8000000:64K:$k3 --share iobuf:0x8100000:4K
vm list
ps
# inside a guest: KVM's CPUID hides TME (7:ECX[13]) and PCONFIG (7:EDX[18]) and shows
# the full MAXPHYADDR; the TME MSRs #GP; there is no mktme key type
cpuid -1 -r -l 7
vm exec vm1 'dmesg'
vm exec vm1 'cpuid -1 -r -l 7; cpuid -1 -r -l 0x80000008; rdmsr 0x981'
vm exec vm1 "keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u"
vm exec vm1 'dimm read 0x100000 16'
# the guests' memory maps: RAM, and the shared regions as reserved windows
vm exec vm1 'cat /proc/iomem'
# KeyID 3: VM1 writes, VM2 reads and writes, VM1 reads back
vm exec vm1 'devmem -w 0x8000000 564d31207772697465733a2073686172656420766961204b65794944203320'
vm exec vm2 'devmem 0x8000000 32; devmem -w 0x8000020 564d322077726974657320746f6f'
vm exec vm1 'devmem 0x8000000 48'
vm ept vm1 0x8000000
vm ept vm2 0x8000000
# KeyID 0: an I/O buffer the hypervisor reads in plaintext
vm exec vm1 'devmem -w 0x8100000 494f206275666665722066726f6d20564d31'
io=$(mmap 4K rw shm=/iobuf)
read $io 18
# each VM's RAM is on its own KeyID
for vm in vm1 vm2; do
  pte=$(vm exec $vm 'a=$(mmap 4K); write $a "private"; pagemap $a')
  echo "$pte"
  vm ept $vm $(printf '0x%x' $(($(echo "$pte" | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2) * 4096)))
done
vm destroy vm2
vm destroy vm1
vm list
ps
